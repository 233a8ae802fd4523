// The routes of session leases (#26): list the sessions, keep one alive, end one.
import type { Hono } from "hono";
import { parseOrThrow, type Row } from "../core/model.ts";
import {
  DEFAULT_SESSION_TTL_SECONDS,
  endSession,
  heartbeat,
  heartbeatRequestSchema,
  listSessions,
  type Session,
  sessionIdSchema,
} from "../core/sessions.ts";
import { readJson } from "./body.ts";
import { clientPid } from "./ownership.ts";
import { json } from "./respond.ts";
import type { RouteDeps } from "./routes.ts";
import { type Views, viewsOf } from "./views.ts";

export function registerSessionRoutes(app: Hono, deps: RouteDeps): void {
  const { store, owners } = deps;

  // Each session's ports as the caller may see them (#28).
  app.get("/v1/sessions", (c) => {
    const v = viewsOf(c, owners);
    return json(listSessions(store).map((s) => shown(s, v)));
  });

  app.post("/v1/sessions/:id/heartbeat", async (c) => {
    const id = parseOrThrow(sessionIdSchema, c.req.param("id"), "session");
    const { ttl } = parseOrThrow(heartbeatRequestSchema, await readJson(c.req.raw));
    const v = viewsOf(c, owners);
    return json(shown(heartbeat(store, id, ttl ?? DEFAULT_SESSION_TTL_SECONDS), v));
  });

  // A session's ports are their owners' (#28): ending another user's session is refused.
  app.delete("/v1/sessions/:id", (c) => {
    const id = parseOrThrow(sessionIdSchema, c.req.param("id"), "session");
    const v = viewsOf(c, owners);
    const released = store.write(() => {
      for (const r of store.list()) {
        if (r.lease_session === id) owners.mayChange(r, v.caller, "end the session of");
      }
      return endSession(store, id, clientPid(c));
    });
    return json({ released: released.map((r) => v.row(r)) });
  });
}

/** The paths served here, with their methods (for 405's Allow). */
export const SESSION_PATHS: [RegExp, string][] = [
  [/^\/v1\/sessions$/, "GET, HEAD"],
  [/^\/v1\/sessions\/[^/]+\/heartbeat$/, "POST"],
  [/^\/v1\/sessions\/[^/]+$/, "DELETE"],
];

// --- internal ---

function shown(s: Session, v: Views): Session {
  return { ...s, allocations: s.allocations.map((a) => v.row(a as Row)) };
}
