import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { PortError } from "../../core/errors.ts";
import { heldByCheckout } from "../../core/holder.ts";
import type { AllocateRequest, Allocation, SystemUse } from "../../core/model.ts";
import {
  composeProjectsUnder,
  type Finding,
  type Problem,
  planRegistration,
  scanProject,
  type Unscanned,
} from "../../core/scan/index.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner, findCheckout } from "../detect.ts";
import { CLI_ERRORS } from "../errors.ts";
import type { Io } from "../io.ts";
import { colors, holderText, owner, printJson, processText, safe } from "../output.ts";
import { type Column, table, tableWidth } from "../table.ts";

export interface ScanOptions {
  /** The folder to scan; by default the repository around the current folder (or it). */
  dir?: string;
  /** Folder levels below it to read (SCAN_DEPTH by default). */
  depth?: number;
  register?: boolean;
  /** Rewrite literal host ports to `${KEY:-port}` (`dryRun`: print what would change). */
  fix?: boolean;
  dryRun?: boolean;
  app?: string;
  instance?: string;
  json?: boolean;
}

export interface Registration extends Finding {
  result: "registered" | "exists" | "conflict" | "skipped";
  allocation?: Allocation;
  holder?: Allocation;
  /** A process listening on a port just registered (it may be the project's own stack, or not). */
  listening?: SystemUse;
  /** Why it was not registered (conflict or skipped). */
  error?: string;
}

/** Exit 1 when a file could not be parsed or a port could not be registered; 0 otherwise. */
export async function scan(opts: ScanOptions, io: Io): Promise<number> {
  const root = folder(opts.dir, io);
  if (opts.fix && opts.register)
    throw new PortError(
      "bad_request",
      "--fix and --register are separate steps: run one, then the other",
    );
  const { findings, problems, unscanned } = scanProject(root, io.env, {
    ...(opts.depth !== undefined ? { depth: opts.depth } : {}),
  });
  const c = colors(io);
  // A repository is untrusted: its file names, service names and values are escaped.
  for (const p of problems)
    io.err(
      `${p.severity === "error" ? c.red("error:") : c.yellow("warning:")} ${safe(`${p.source}: ${p.message}`)}`,
    );
  if (unscanned.length) io.err(safe(notScanned(unscanned)));
  const failed = problems.some((p) => p.severity === "error");
  if (opts.fix) {
    const { fixCompose } = await import("./scan-fix.ts");
    const depth = opts.depth !== undefined ? { depth: opts.depth } : {};
    const projects = composeProjectsUnder(root, io.env, depth);
    return (await fixCompose(projects, root, opts.dryRun ?? false, io)) || failed ? 1 : 0;
  }
  if (!opts.register) {
    if (opts.json) printJson(io, { findings, ...problemLists(problems), not_scanned: unscanned });
    else if (findings.length === 0) io.out(safe(`no host-bound ports found in ${root}`));
    else {
      // PROFILE only when a port belongs to one: `up` without it does not publish that port.
      const columns = findings.some((f) => f.profiles)
        ? [...FINDING_COLUMNS, PROFILE_COLUMN]
        : FINDING_COLUMNS;
      for (const line of table(findings, columns, c, tableWidth(io))) io.out(line);
    }
    return failed ? 1 : 0;
  }
  const client = new Client(io.env);
  const {
    app,
    instance,
    registrations: results,
  } = await registerFindings(findings, root, { ...opts, home: io.env.HOME }, client);
  if (opts.json)
    printJson(io, { registrations: results, ...problemLists(problems), not_scanned: unscanned });
  else for (const r of results) io.out(safe(describe(r, app, instance, io.env.HOME)));
  return failed || results.some((r) => r.result === "conflict") ? 1 : 0;
}

/**
 * `scan --register` (and the MCP scan tool with register): each finding recorded, in order, for
 * the scanned folder's checkout, wherever portctl was started from (its app and instance unless
 * given); the findings planRegistration skips come last, with why.
 */
export async function registerFindings(
  findings: Finding[],
  root: string,
  given: { app?: string | undefined; instance?: string | undefined; home?: string | undefined },
  client: Client,
): Promise<{ app: string; instance: string; registrations: Registration[] }> {
  const { app, instance } = detectOwner(root, given);
  const plan = planRegistration(findings);
  const names = { app, instance, checkout: detectCheckoutPath(root) };
  const registrations = await register(plan.register, names, client, given.home);
  for (const { finding, reason } of plan.skipped)
    registrations.push({ ...finding, result: "skipped", error: reason });
  return { app, instance, registrations };
}

/**
 * With --json, stdout is the whole answer: the files that could not be read (`errors`, exit 1),
 * the entries skipped (`warnings`) and the Compose files not read (`not_scanned`: `{path,
 * reason: "depth" | "folder" | "outside"}`) travel with the findings, as well as on stderr.
 * The MCP scan tool answers with the same keys.
 */
export function problemLists(problems: Problem[]) {
  const pick = (severity: Problem["severity"]) =>
    problems
      .filter((p) => p.severity === severity)
      .map(({ source, message }) => ({ source, message }));
  return { errors: pick("error"), warnings: pick("warning") };
}

// --- internal ---

/**
 * DIR, else the top of the git checkout around the current folder (what app detection names),
 * else the current folder. Scanning a folder other than the one asked for says so on stderr.
 */
function folder(dir: string | undefined, io: Io): string {
  if (dir === undefined) {
    const top = findCheckout(io.cwd)?.top;
    if (top && top !== resolve(io.cwd)) {
      io.err(safe(`scanning ${top} (the repository's top folder)`));
      return top;
    }
  }
  const root = resolve(io.cwd, dir ?? ".");
  if (!existsSync(root)) throw new PortError("bad_request", `no such folder: ${root}`);
  if (!statSync(root).isDirectory()) {
    throw new PortError("bad_request", `${root} is a file; scan takes the project's folder`);
  }
  return root;
}

/** `2 compose files not scanned: a/b/c/d/e/compose.yaml, build/compose.yaml; pass --depth 5` */
function notScanned(files: Unscanned[]): string {
  const deepest = Math.max(
    0,
    ...files.filter((f) => f.reason === "depth").map((f) => f.path.split("/").length - 1),
  );
  const hints = [
    ...(deepest ? [`pass --depth ${deepest}`] : []),
    ...(files.some((f) => f.reason === "folder")
      ? ["scan a skipped folder (build/, dist/, vendor/, …) by naming it"]
      : []),
    ...(files.some((f) => f.reason === "outside")
      ? ["a link out of the scanned folder is not followed"]
      : []),
  ];
  const n = files.length;
  return `${n} compose file${n === 1 ? "" : "s"} not scanned: ${files.map((f) => f.path).join(", ")}; ${hints.join("; ")}`;
}

const FINDING_COLUMNS: Column<Finding>[] = [
  { header: "PORT", value: (f) => String(f.port) },
  { header: "SERVICE", value: (f) => f.service },
  { header: "PROTOCOL", value: (f) => f.protocol },
  { header: "SOURCE", value: (f) => f.source },
];

const PROFILE_COLUMN: Column<Finding> = {
  header: "PROFILE",
  value: (f) => f.profiles?.join(", ") ?? "-",
};

/** One request per port, in order; conflicts are collected, not fatal. An unreachable server is. */
async function register(
  findings: Finding[],
  names: { app: string; instance: string; checkout: string },
  client: Client,
  home: string | undefined,
): Promise<Registration[]> {
  const out: Registration[] = [];
  for (const f of findings) {
    try {
      const { allocation, created } = await claim(
        { ...names, service: f.service, port: f.port },
        client,
      );
      // A newly recorded port somebody listens on: say who, so a stranger's process is noticed.
      const system = created ? (await client.port(f.port)).system : undefined;
      out.push({
        ...f,
        result: created ? "registered" : "exists",
        allocation,
        ...(system?.in_use ? { listening: system } : {}),
      });
    } catch (err) {
      if (!(err instanceof PortError) || err.code === "unreachable") throw err;
      out.push({
        ...f,
        result: "conflict",
        ...(err.holder ? { holder: err.holder } : {}),
        error: conflictText(err, home),
      });
    }
  }
  return out;
}

/**
 * The port for the service; one something already listens on is recorded only when that
 * listener is this checkout's own: a container of a Compose project in it, or a process working
 * in it (its stack or dev server, started before it was registered). Anyone else's is the
 * daemon's port_in_use, naming it (recorded, the next `up` would fail on it).
 */
async function claim(req: AllocateRequest & { checkout: string; port: number }, client: Client) {
  try {
    return await client.allocate(req, { reuse: true });
  } catch (err) {
    if (!(err instanceof PortError) || err.code !== "port_in_use") throw err;
    const system = err.details?.system as SystemUse | undefined;
    if (!system || !heldByCheckout(system, req.checkout)) throw err;
    return await client.allocate(req, { reuse: true, adopt: true });
  }
}

/** Why a port was not registered, in scan's words: scan has no --reuse to suggest. */
function conflictText(err: PortError, home: string | undefined): string {
  const h = err.holder;
  if (err.code === "service_allocated" && h)
    return `${holderText(h)} already has port ${h.port}; release it to move the service to this port`;
  if (err.code === "port_allocated" && h) return `held by ${holderText(h)}`;
  return CLI_ERRORS[err.code].line(err, home);
}

function describe(r: Registration, app: string, instance: string, home?: string): string {
  const name = owner({ app, instance, service: r.service });
  if (r.result === "registered") {
    const listening = r.listening ? `; listening now${processText(r.listening, home)}` : "";
    return `registered port ${r.port} (id=${r.allocation?.id}) for ${name}  [${r.source}]${listening}`;
  }
  if (r.result === "exists")
    return `already registered: port ${r.port} (id=${r.allocation?.id}) for ${name}  [${r.source}]`;
  if (r.result === "skipped")
    return `skipped: port ${r.port} for ${name}  [${r.source}]: ${r.error}`;
  return `conflict: port ${r.port} for ${name}  [${r.source}]: ${r.error}`;
}
