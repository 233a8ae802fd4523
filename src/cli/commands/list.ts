import { existsSync } from "node:fs";
import { checkoutExists } from "../../core/checkout.ts";
import type { MachineListener } from "../../core/listeners.ts";
import type { Allocation, ListQuery, Project } from "../../core/model.ts";
import { systemProbe } from "../../core/probe.ts";
import { Client } from "../client.ts";
import { detectApp } from "../detect.ts";
import type { Io } from "../io.ts";
// Only the tables load localtime.ts (and with it bun:ffi), not every command through output.ts.
import { localTime } from "../localtime.ts";
import { type Colors, colors, printJson, processText, safe } from "../output.ts";
import { type Column, table, tableWidth } from "../table.ts";

export interface ListOptions {
  app?: string;
  instance?: string;
  service?: string;
  /** Every app, not just the current one. */
  all?: boolean;
  /** Also each allocation's checkout and when it was last seen listening. */
  long?: boolean;
  json?: boolean;
}

export async function list(opts: ListOptions, io: Io): Promise<number> {
  const q = listQuery(opts, () => io.cwd);
  const client = new Client(io.env);
  const reply = client.list(q);
  if (opts.json) {
    printJson(io, await reply);
    return 0;
  }
  reply.catch(() => {}); // awaited below; this only keeps a throw in between from orphaning it
  // -l says who listens (a container, where an engine's proxy holds the port): the daemon's
  // listener list, asked beside the rows; the short list only looks at the kernel's table.
  // A daemon that cannot say (an older one): the column says only yes, as before.
  const holders = opts.long ? client.listeners().catch(() => []) : undefined;
  // The one look at the machine's listeners, taken while the rows are on their way.
  const listening = systemProbe().listening();
  const rows = await reply;
  // Each checkout's Compose project names (long listing only: one more request).
  const projects = opts.long && rows.length ? await client.projects(projectQuery(q)) : [];
  if (rows.length === 0) {
    const filters = Object.entries(q).map(([k, v]) => `${k}=${v}`);
    const match = filters.length ? ` match ${filters.join(" ")}` : "";
    const hint = q.app && !opts.app ? " (portctl list --all shows every app)" : "";
    io.out(safe(`no allocations${match}${hint}`));
    return 0;
  }
  const c = colors(io);
  const columns = [
    ...ALLOCATION_COLUMNS,
    listeningColumn(listening, c, holders && byPort(await holders, io.env.HOME)),
    ...(opts.long ? [...LONG_COLUMNS, projectColumn(projects)] : []),
    ...noteColumn(rows, c, await goneOnHost(client, q.app)),
    ...ownerColumn(rows),
  ];
  for (const line of table(rows, columns, c, tableWidth(io))) io.out(line);
  return 0;
}

/**
 * What `list` (and the MCP list tool) asks for: the filters given and, unless an app is given or
 * `all`, the app detected from `folder()` (called only then).
 */
export function listQuery(
  opts: Pick<ListOptions, "app" | "instance" | "service" | "all">,
  folder: () => string,
): ListQuery {
  const q: ListQuery = {};
  const app = opts.app ?? (opts.all ? undefined : detectApp(folder()));
  if (app !== undefined) q.app = app;
  if (opts.instance !== undefined) q.instance = opts.instance;
  if (opts.service !== undefined) q.service = opts.service;
  return q;
}

// --- internal ---

function projectQuery(q: ListQuery): Record<string, string | undefined> {
  return { app: q.app, instance: q.instance };
}

/** PROJECT: the Compose project name(s) the row's checkout holds for its app/instance. */
function projectColumn(projects: Project[]): Column<Allocation> {
  const names = new Map<string, string[]>();
  for (const p of projects) {
    const key = `${p.app}\u0000${p.instance}\u0000${p.checkout}`;
    names.set(key, [...(names.get(key) ?? []), p.name]);
  }
  return {
    header: "PROJECT",
    value: (a) => names.get(`${a.app}\u0000${a.instance}\u0000${a.checkout}`)?.join(", ") ?? "-",
  };
}

// Another user's allocation (#28) comes without names: its port and `another user (alice)`.
const ALLOCATION_COLUMNS: Column<Allocation>[] = [
  { header: "ID", value: (a) => String(a.id), fixed: true },
  { header: "APP", value: (a) => (a.hidden ? `another user (${a.owner})` : a.app) },
  { header: "INSTANCE", value: (a) => (a.hidden ? "-" : a.instance) },
  { header: "SERVICE", value: (a) => (a.hidden ? "-" : a.service) },
  { header: "PORT", value: (a) => String(a.port), fixed: true },
  { header: "CREATED", value: (a) => localTime(a.created_at), fixed: true, droppable: true },
];

const LONG_COLUMNS: Column<Allocation>[] = [
  // The URL where the service serves HTTP, else just its name (an older daemon: neither).
  { header: "URL", value: (a) => a.url ?? a.name ?? "-" },
  { header: "CHECKOUT", value: (a) => a.checkout ?? "-" },
  {
    header: "LAST SEEN",
    value: (a) => (a.last_seen ? localTime(a.last_seen) : "never"),
    fixed: true,
    droppable: true,
  },
];

/**
 * `STALE` for an allocation whose checkout folder is gone (what `prune` would release), and
 * `leased (pid N)` for one that ends with its process. Only shown when some row has a note.
 */
/**
 * Inside a container the recorded checkouts are the host's paths, absent in here: the daemon,
 * which sees the host's folders, says which are gone (a prune dry run). undefined elsewhere, or
 * when it cannot say: the folders are looked at here.
 */
async function goneOnHost(
  client: Client,
  app: string | undefined,
): Promise<((path: string) => boolean) | undefined> {
  if (!existsSync("/.dockerenv") && !existsSync("/run/.containerenv")) return undefined;
  try {
    const r = await client.prune({ dry_run: true, ...(app === undefined ? {} : { app }) });
    const gone = new Set(
      [...r.candidates, ...(r.kept ?? [])]
        .filter((x) => x.cause === "checkout_gone")
        .map((x) => x.allocation.checkout),
    );
    return (path) => gone.has(path);
  } catch {
    return undefined;
  }
}

function noteColumn(
  rows: Allocation[],
  c: Colors,
  goneThere?: (path: string) => boolean,
): Column<Allocation>[] {
  // Plain loops: this runs once, cold, over every row (see table.ts).
  const notes = new Map<number, string>();
  // Rows share a few checkouts: each folder is looked at once.
  const gone = new Map<string, boolean>();
  const isGone = (path: string) => {
    let g = gone.get(path);
    if (g === undefined) {
      g = goneThere ? goneThere(path) : !checkoutExists(path);
      gone.set(path, g);
    }
    return g;
  };
  let any = false;
  for (const a of rows) {
    const stale = a.checkout !== null && isGone(a.checkout) ? "STALE" : "";
    const leased = a.lease_pid
      ? `leased (pid ${a.lease_pid})`
      : a.lease_session
        ? `session ${a.lease_session}`
        : "";
    const note = stale && leased ? `${stale}, ${leased}` : stale || leased;
    if (note) any = true;
    notes.set(a.id, note);
  }
  if (!any) return [];
  return [
    {
      header: "NOTE",
      value: (a) => notes.get(a.id) ?? "",
      style: (text) => (text.startsWith("STALE") ? c.yellow(text) : c.dim(text)),
    },
  ];
}

/** OWNER, for the registry's own user, who sees every user's rows whole (only when some are). */
function ownerColumn(rows: Allocation[]): Column<Allocation>[] {
  let any = false;
  for (const a of rows) if (a.owner !== undefined && !a.hidden) any = true;
  return any ? [{ header: "OWNER", value: (a) => (a.hidden ? "" : (a.owner ?? "")) }] : [];
}

/** `port → container shop-db-1 (Compose project shop, ~/work/shop)` or `node (pid 7)`. */
function byPort(listeners: MachineListener[], home: string | undefined): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of listeners) {
    const who = processText({ in_use: true, ...l }, home).replace(/^ by /, "");
    if (who) out.set(l.port, who);
  }
  return out;
}

/** Whether each port has a listener, seen from this machine (one look for all rows); -l: whose. */
function listeningColumn(
  listening: (port: number) => boolean,
  c: Colors,
  holders?: Map<number, string>,
): Column<Allocation> {
  return {
    header: "LISTENING",
    value: (a) => {
      if (!listening(a.port)) return "no";
      const who = holders?.get(a.port);
      return who ? `yes: ${who}` : "yes";
    },
    style: (text) => (text.startsWith("yes") ? c.green(text) : c.dim(text)),
  };
}
