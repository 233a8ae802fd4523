// Session leases: allocations an agent session holds until the session ends (`portctl session
// end ID`), its heartbeat stops (a session that sent one with a ttl and then fell silent for
// longer), or its checkout folder disappears. Unlike a PID lease, nothing dies with the hook's
// own shell: a hook allocates, exits, and the ports stay with the session.
import { z } from "zod";
import type { CheckoutExists } from "./checkout.ts";
import { PortError } from "./errors.ts";
import { durationSchema } from "./events.ts";
import { allocationSchema, type Row, rfc3339, sessionIdSchema, unknownKeys } from "./model.ts";
import { COLUMNS } from "./queries.ts";
import type { Store } from "./store.ts";

/** How long a session that sent a heartbeat without a ttl may stay silent. */
export const DEFAULT_SESSION_TTL_SECONDS = 600;

const TTL_ERROR = "must be a duration of at least 1s such as 30s, 10m or 1h";
export const heartbeatRequestSchema = z.strictObject(
  {
    ttl: z
      .string()
      .regex(/^[1-9]\d{0,5}[smhdw]$/, { error: TTL_ERROR })
      .transform((s) => durationSchema.parse(s) / 1000)
      .describe("end the session when no heartbeat comes for this long (30s, 10m, 1h; default 10m)")
      .optional(),
  },
  { error: unknownKeys },
);

export const sessionSchema = z.object({
  id: sessionIdSchema,
  started_at: z.string().describe("RFC 3339 UTC"),
  heartbeat_at: z.string().nullable().describe("the last heartbeat; null when none was sent"),
  ttl_seconds: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe("silence that ends the session; null: it ends only by DELETE or its checkout"),
  allocations: z.array(allocationSchema).describe("what the session holds"),
});
export type Session = z.infer<typeof sessionSchema>;

export const sessionEndSchema = z.object({
  released: z.array(allocationSchema).describe("the allocations the session held, now released"),
});

export { sessionIdSchema };

/**
 * Ties an allocation to `session` inside the allocation's write: a new one is recorded with it;
 * one reused from another session moves to this one (a resumed agent session takes its ports
 * over); one that belongs to no session (the main checkout's) is left alone.
 */
export function holdForSession(store: Store, a: Row, session: string): Row {
  startSession(store, session);
  if (a.lease_session === null || a.lease_session === session) return a;
  const row = store.db
    .query<Row, [string, number]>(
      `UPDATE allocations SET lease_session = ? WHERE id = ? RETURNING ${COLUMNS}`,
    )
    .get(session, a.id);
  if (!row) throw new PortError("storage", "session lease updated no row");
  return row;
}

/** Records the session (once). Call inside `store.write()`. */
export function startSession(store: Store, session: string): void {
  store.db
    .query("INSERT INTO sessions (id, started_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
    .run(session, rfc3339(store.now()));
}

/** A heartbeat: the session stays alive for `ttlSeconds` more (created if it is new). */
export function heartbeat(store: Store, session: string, ttlSeconds: number): Session {
  return store.write(() => {
    startSession(store, session);
    store.db
      .query("UPDATE sessions SET heartbeat_at = ?, ttl_seconds = ? WHERE id = ?")
      .run(rfc3339(store.now()), ttlSeconds, session);
    return sessionOf(store, session) as Session;
  });
}

/** Ends a session: releases what it holds (each with a `lease_ended` event) and forgets it. */
export function endSession(store: Store, session: string, pid?: number | null): Row[] {
  return store.write(() => end(store, session, `session ${session} ended`, pid));
}

/** Every session, oldest first, with what it holds. */
export function listSessions(store: Store): Session[] {
  const ids = store.db
    .query<{ id: string }, []>("SELECT id FROM sessions ORDER BY started_at, id")
    .all()
    .map((r) => r.id);
  return ids.map((id) => sessionOf(store, id) as Session);
}

/**
 * The daemon's upkeep: ends sessions silent past their ttl, and releases session allocations
 * whose checkout folder is gone. Cheap (one indexed query) when no session holds anything.
 */
export function endLapsedSessions(store: Store, checkoutExists: CheckoutExists): Row[] {
  const lapsed = lapsedSessions(store);
  const held = store.db
    .query<Row, []>(`SELECT ${COLUMNS} FROM allocations WHERE lease_session IS NOT NULL`)
    .all();
  const orphaned = held.filter((a) => a.checkout !== null && !checkoutExists(a.checkout));
  if (lapsed.length === 0 && orphaned.length === 0) return [];
  return store.write(() => {
    const ended: Row[] = [];
    for (const s of lapsedSessions(store)) {
      ended.push(...end(store, s.id, `session ${s.id} sent no heartbeat for ${s.ttl_seconds}s`));
    }
    const gone = orphaned.filter((a) => !ended.some((e) => e.id === a.id) && store.byId(a.id));
    store.remove(gone, "lease_ended", (a) => ({
      reason: `session ${a.lease_session}: the checkout at ${a.checkout} no longer exists`,
    }));
    for (const session of new Set(gone.map((a) => a.lease_session as string))) {
      forgetIfEmpty(store, session);
    }
    return [...ended, ...gone];
  });
}

// --- internal ---

function end(store: Store, session: string, reason: string, pid?: number | null): Row[] {
  const held = store.db
    .query<Row, [string]>(`SELECT ${COLUMNS} FROM allocations WHERE lease_session = ? ORDER BY id`)
    .all(session);
  store.remove(held, "lease_ended", () => ({ pid: pid ?? null, reason }));
  store.db.query("DELETE FROM sessions WHERE id = ?").run(session);
  return held;
}

function forgetIfEmpty(store: Store, session: string): void {
  store.db
    .query(
      "DELETE FROM sessions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM allocations WHERE lease_session = ?)",
    )
    .run(session, session);
}

interface SessionRow {
  id: string;
  started_at: string;
  heartbeat_at: string | null;
  ttl_seconds: number | null;
}

function lapsedSessions(store: Store): SessionRow[] {
  const now = store.now().getTime();
  return store.db
    .query<SessionRow, []>(
      "SELECT id, started_at, heartbeat_at, ttl_seconds FROM sessions WHERE ttl_seconds IS NOT NULL",
    )
    .all()
    .filter((s) => Date.parse(s.heartbeat_at ?? s.started_at) + (s.ttl_seconds ?? 0) * 1000 < now);
}

function sessionOf(store: Store, id: string): Session | undefined {
  const row = store.db
    .query<SessionRow, [string]>(
      "SELECT id, started_at, heartbeat_at, ttl_seconds FROM sessions WHERE id = ?",
    )
    .get(id);
  if (!row) return undefined;
  const allocations = store.db
    .query<Row, [string]>(`SELECT ${COLUMNS} FROM allocations WHERE lease_session = ? ORDER BY id`)
    .all(id);
  return { ...row, allocations };
}
