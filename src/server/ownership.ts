// The routes of ownership (#15): the history (`GET /v1/events`), `prune`, `import`, and the
// client's PID header that the history records with every change.
import type { Context, Hono } from "hono";
import { importAllocations, importRequestSchema } from "../core/backup.ts";
import { MAX_IMPORT_BYTES } from "../core/config.ts";
import { PortError } from "../core/errors.ts";
import { eventsQuerySchema, sinceBound } from "../core/events.ts";
import { withContainer } from "../core/holder.ts";
import { parseOrThrow } from "../core/model.ts";
import { goneProjectNames, keptReason, prune, pruneRequestSchema } from "../core/prune.ts";
import { readJson } from "./body.ts";
import { IMPORT_PATH } from "./guards.ts";
import { json } from "./respond.ts";
import type { RouteDeps } from "./routes.ts";
import { byName, ownedQuery, viewsOf } from "./views.ts";

/** The header a client sends its own PID in, for the history. */
const CLIENT_PID_HEADER = "x-client-pid";

export function registerOwnershipRoutes(app: Hono, deps: RouteDeps): void {
  const { store, allocator, probe, engine, owners } = deps;

  app.get("/v1/events", (c) => {
    const { since, ...q } = parseOrThrow(eventsQuerySchema, nonEmptyQuery(c));
    const v = viewsOf(c, owners);
    const rows = store.events({
      ...ownedQuery(q, v),
      ...(since ? { since: sinceBound(since, store.now()) } : {}),
    });
    return json(v.events(rows, byName(q)));
  });

  // Each user prunes their own allocations; an admin all, each event saying whose it was.
  app.post("/v1/prune", async (c) => {
    const req = parseOrThrow(pruneRequestSchema, await readJson(c.req.raw));
    const v = viewsOf(c, owners);
    // Compose project names: a user's prune leaves them to the admins (#28).
    const names = { store, checkoutExists: allocator.checkoutExists, projects: v.caller.admin };
    // A gone checkout's name stays while the engine has containers of it (asked before the
    // write: the engine is slow and outside the transaction).
    const gone = goneProjectNames(names, req);
    const projectContainers = gone.length ? await engine?.composeContainers?.(gone) : undefined;
    const result = prune(
      {
        ...names,
        probe,
        mine: (r) => owners.sees(r, v.caller),
        // An app named is the caller's own app (#28), an admin's too.
        owner: owners.key(v.caller),
        whose: (r) => owners.whose(r, v.caller),
        ...(projectContainers ? { projectContainers } : {}),
      },
      req,
      clientPid(c),
    );
    // A port kept because an engine's proxy listens: the container that still publishes it.
    for (const k of result.kept) {
      k.system = await withContainer(k.system, k.allocation.port, engine);
      k.reason = keptReason(k);
    }
    return json({
      dry_run: result.dry_run,
      candidates: result.candidates.map((x) => ({ ...x, allocation: v.row(x.allocation) })),
      projects: result.projects.map((x) => ({ ...x, project: v.project(x.project) })),
      kept: result.kept.map((x) => ({ ...x, allocation: v.row(x.allocation) })),
      kept_projects: result.kept_projects.map((x) => ({ ...x, project: v.project(x.project) })),
    });
  });

  // Imported rows become the caller's; a conflict names another user's row by its owner only.
  app.post(IMPORT_PATH, async (c) => {
    const rows = parseOrThrow(importRequestSchema, await readJson(c.req.raw, MAX_IMPORT_BYTES));
    const v = viewsOf(c, owners);
    const result = importAllocations(store, rows, clientPid(c), {
      owner: owners.rowOwner(v.caller),
      mine: (r) => owners.isOwn(r, v.caller),
      describe: (r) => v.describe(r),
      label: owners.label(v.caller),
    });
    return json({ ...result, imported: result.imported.map((r) => v.row(r)) });
  });
}

/** The paths served here, with their methods (for 405's Allow). */
export const OWNERSHIP_PATHS: [RegExp, string][] = [
  [/^\/v1\/events$/, "GET, HEAD"],
  [/^\/v1\/prune$/, "POST"],
  [/^\/v1\/import$/, "POST"],
];

/** `X-Client-Pid`, when sent: a positive integer, else 400 (never recorded wrong). */
export function clientPid(c: Context): number | null {
  const value = c.req.header(CLIENT_PID_HEADER);
  if (value === undefined) return null;
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > 2 ** 31 - 1) {
    throw new PortError("bad_request", `${CLIENT_PID_HEADER} must be a process id`);
  }
  return Number(value);
}

// --- internal ---

function nonEmptyQuery(c: Context): Record<string, string> {
  return Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ""));
}
