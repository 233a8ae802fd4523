// The API routes of SPEC §4. Each handler validates with the zod schemas of core/model.ts and
// calls the store or the allocator; errors are PortErrors, rendered by app.ts.
import type { Context, Hono } from "hono";
import type { Allocator } from "../core/allocator.ts";
import { formatRange } from "../core/config.ts";
import type { Engine } from "../core/engine.ts";
import { PortError } from "../core/errors.ts";
import { withContainer } from "../core/holder.ts";
import { type MachineListener, machineListeners } from "../core/listeners.ts";
import {
  allocateQuerySchema,
  allocateRequestSchema,
  filterSchema,
  healthQuerySchema,
  idParamSchema,
  listQuerySchema,
  type PortStatus,
  parseOrThrow,
  portParamSchema,
  type Row,
} from "../core/model.ts";
import type { Owners } from "../core/owners.ts";
import { batchedListening, type Probe } from "../core/probe.ts";
import type { Store } from "../core/store.ts";
import { readJson } from "./body.ts";
import { openApiDocument } from "./openapi.ts";
import { clientPid, OWNERSHIP_PATHS, registerOwnershipRoutes } from "./ownership.ts";
import { PROJECT_PATHS, registerProjectRoutes } from "./projects.ts";
import type { ProxyStatus } from "./proxy/listener.ts";
import { json } from "./respond.ts";
import { registerSessionRoutes, SESSION_PATHS } from "./sessions.ts";
import { registerUi, UI_PATHS } from "./ui/routes.ts";
import { byName, hostCheckout, ownedQuery, viewsOf } from "./views.ts";

export interface RouteDeps {
  store: Store;
  allocator: Allocator;
  probe: Probe;
  pid: number;
  version: string;
  /** The port the server listens on, for the document's `servers`. */
  port: () => number;
  /** The names proxy (/healthz). */
  proxy?: ProxyStatus;
  /** Every listener on the machine (the dashboard's unregistered section); tests inject one. */
  listeners?: () => MachineListener[];
  /** Asked who publishes a port an engine's proxy holds; without one, the process is the answer. */
  engine?: Engine | undefined;
  owners: Owners;
}

/**
 * The methods served at `path` (for a 405's `Allow`), or undefined where nothing is (404).
 * Answered from the not-found handler, so that each request matches exactly one route and
 * takes Hono's fast path (a catch-all 405 route per path would match every request too).
 */
export function allowedMethods(path: string): string | undefined {
  return KNOWN_PATHS.find(([re]) => re.test(path))?.[1];
}

export function registerRoutes(app: Hono, deps: RouteDeps): void {
  registerHealth(app, deps);
  registerAllocations(app, deps);

  const listening = batchedListening(deps.probe);
  app.get("/v1/ports/:port", (c) => portStatus(c, deps, listening));

  registerOwnershipRoutes(app, deps);
  registerProjectRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerUi(app, deps.listeners ?? machineListeners, deps.engine);

  // Built on first use: a server on port 0 learns its port after binding, and `servers` names it.
  let openapi: Record<string, unknown> | undefined;
  app.get("/v1/openapi.json", () => {
    openapi ??= openApiDocument(deps.version, deps.port());
    return json(openapi);
  });
}

// --- internal ---

function registerHealth(app: Hono, deps: RouteDeps): void {
  const { store, allocator } = deps;
  app.get("/healthz", (c) => {
    const { check } = parseOrThrow(healthQuerySchema, c.req.query());
    // A database that fails here is a 503 `storage` through errorResponse, as on every route.
    store.ping();
    // Opt-in: quick_check reads every page, too slow for a liveness probe.
    const integrity = check ? store.quickCheck() : undefined;
    return json({
      ...(integrity !== undefined ? { integrity } : {}),
      status: "ok",
      pid: deps.pid,
      version: deps.version,
      range: formatRange(allocator.range),
      exclude: allocator.exclude.map(formatRange),
      db: store.path,
      proxy: deps.proxy ?? { port: null, setting: "off", addresses: [] },
      // Whose registry this is (#28): another user's portctl says so instead of "not ours".
      uid: deps.owners.daemonUid,
      user: deps.owners.name(deps.owners.daemonUid),
    });
  });
}

/** Allocate (in the next group commit), list, release by id or by filter. */
function registerAllocations(app: Hono, deps: RouteDeps): void {
  const { store, allocator, owners } = deps;
  app.post("/v1/allocations", async (c) => {
    const req = parseOrThrow(allocateRequestSchema, await readJson(c.req.raw));
    const flags = parseOrThrow(allocateQuerySchema, c.req.query());
    const reuse = flags.reuse ?? false;
    const adopt = flags.adopt ?? false;
    const v = viewsOf(c, owners);
    const where = hostCheckout(c, req.checkout);
    try {
      const pid = clientPid(c);
      const asked = { ...req, checkout: where.checkout };
      const { allocation, block, created, takenOverFrom } = await allocator.allocateBatched(asked, {
        reuse,
        adopt,
        pid,
        caller: v.caller,
        ...(where.note ? { note: where.note } : {}),
      });
      const body = {
        ...v.row(allocation),
        ...(takenOverFrom === undefined ? {} : { taken_over_from: takenOverFrom }),
        ...(block ? { block: block.map((b) => v.row(b)) } : {}),
      };
      return json(body, created ? 201 : 200);
    } catch (err) {
      throw await withSystemUse(err, req.port, deps);
    }
  });

  app.get("/v1/allocations", (c) => {
    const q = parseOrThrow(listQuerySchema, c.req.query());
    const v = viewsOf(c, owners);
    return json(v.rows(store.list(ownedQuery(q, v)), byName(q)));
  });

  app.delete("/v1/allocations/:id", (c) => {
    const id = parseOrThrow(idParamSchema, c.req.param("id"), "id");
    const { caller } = viewsOf(c, owners);
    const pid = clientPid(c);
    const deleted = store.deleteById(id, (row) => {
      owners.mayChange(row, caller, "release");
      return { pid, reason: `released by id${owners.whose(row, caller)}` };
    });
    if (!deleted) throw new PortError("not_found", "allocation not found");
    return json({ status: "deleted" });
  });

  app.delete("/v1/allocations", async (c) => {
    const filter = parseOrThrow(filterSchema, await readJson(c.req.raw));
    const v = viewsOf(c, owners);
    const { caller } = v;
    const fields = Object.entries(filter).map(([k, v]) => `${k}=${v}`);
    const pid = clientPid(c);
    const ctx = (row: Row) => ({
      pid,
      reason: `released by filter ${fields.join(" ")}${owners.whose(row, caller)}`,
    });
    const owned = ownedQuery(filter, v);
    return json({ deleted: store.deleteWhere(owned, ctx, (rows) => mine(rows)).length });

    /** Another user's rows are never released by a filter; one that matches only theirs is a 403. */
    function mine(rows: Row[]): Row[] {
      if (caller.admin) return rows;
      const own = rows.filter((r) => owners.isOwn(r, caller));
      const other = rows.find((r) => !owners.isOwn(r, caller));
      if (own.length === 0 && other) owners.mayChange(other, caller, "release");
      return own;
    }
  });
}

/** Each served path and its methods; HEAD is answered wherever GET is (RFC 9110). */
const KNOWN_PATHS: [RegExp, string][] = [
  [/^\/healthz$/, "GET, HEAD"],
  [/^\/v1\/allocations$/, "GET, HEAD, POST, DELETE"],
  [/^\/v1\/allocations\/[^/]+$/, "DELETE"],
  [/^\/v1\/ports\/[^/]+$/, "GET, HEAD"],
  [/^\/v1\/openapi\.json$/, "GET, HEAD"],
  ...OWNERSHIP_PATHS,
  ...PROJECT_PATHS,
  ...SESSION_PATHS,
  ...UI_PATHS,
];

/**
 * Registry and machine together: a port is available only if neither claims it. Whether it
 * listens is read after the request arrived (batched with the requests of the same moment), by
 * the same test a claim applies; the owner is looked up only for a port that listens.
 */
async function portStatus(
  c: Context,
  deps: RouteDeps,
  listening: (port: number) => Promise<boolean>,
) {
  const port = parseOrThrow(portParamSchema, c.req.param("port"), "port");
  // The engine only for a listening port its proxy holds: a free port's answer never waits on it.
  const system = (await listening(port))
    ? await withContainer(deps.probe.who(port), port, deps.engine)
    : { in_use: false };
  const record = deps.store.portRecord(port);
  const holder = record.holder;
  // Only for a port nobody holds: there the history says who had it last; a held port's
  // holder already tells the story.
  const lastEvent = holder ? null : record.lastEvent;
  // Who asks matters only when there is a record to show: a never-used port costs no lookup.
  const v = holder || lastEvent ? viewsOf(c, deps.owners) : undefined;
  const body: PortStatus = {
    port,
    available: !holder && !system.in_use,
    ...(holder && v ? { holder: v.row(holder) } : {}),
    system,
    ...(lastEvent && v ? { last_event: v.event(lastEvent) } : {}),
  };
  return json(body);
}

/** A port refused because a process holds it: say which process (or container), where we can see. */
async function withSystemUse(err: unknown, port: number | undefined, deps: RouteDeps) {
  if (!(err instanceof PortError) || err.code !== "port_in_use" || !port) return err;
  const system = await withContainer(deps.probe.who(port), port, deps.engine);
  return new PortError(err.code, err.message, undefined, { port, system });
}
