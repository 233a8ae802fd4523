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
  type SessionRecord,
  sessionIdSchema,
} from "../core/sessions.ts";
import { readJson } from "./body.ts";
import { clientPid } from "./ownership.ts";
import { json } from "./respond.ts";
import type { RouteDeps } from "./routes.ts";
import { type Views, viewsOf } from "./views.ts";

export function registerSessionRoutes(app: Hono, deps: RouteDeps): void {
  const { store, owners } = deps;

  // A session is its user's (#28): each user sees their own sessions; the registry's own user
  // (or root) every one, another user's saying whose. Nobody else learns another's session ids.
  app.get("/v1/sessions", (c) => {
    const v = viewsOf(c, owners);
    const sessions = listSessions(store, v.caller.admin ? undefined : owners.key(v.caller));
    return json(sessions.map((s) => shown(s, v)));
  });

  app.post("/v1/sessions/:id/heartbeat", async (c) => {
    const id = parseOrThrow(sessionIdSchema, c.req.param("id"), "session");
    const { ttl } = parseOrThrow(heartbeatRequestSchema, await readJson(c.req.raw));
    const v = viewsOf(c, owners);
    const ttlSeconds = ttl ?? DEFAULT_SESSION_TTL_SECONDS;
    return json(shown(heartbeat(store, id, ttlSeconds, owners.key(v.caller)), v));
  });

  // The caller's own session of that id: another user's, of the same id, is another session.
  app.delete("/v1/sessions/:id", (c) => {
    const id = parseOrThrow(sessionIdSchema, c.req.param("id"), "session");
    const v = viewsOf(c, owners);
    const released = endSession(store, id, owners.key(v.caller), clientPid(c));
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

function shown(s: SessionRecord, v: Views): Session {
  const { owner_uid, ...rest } = s;
  const mine = v.owners.isOwn({ owner_uid }, v.caller);
  return {
    ...rest,
    ...(mine ? {} : { owner: v.owners.nameOf({ owner_uid }) }),
    allocations: s.allocations.map((a) => v.row(a as Row)),
  };
}
