// Session leases: allocations an agent session holds until the session ends (`portctl session
// end ID`), its heartbeat stops (a session that sent one with a ttl and then fell silent for
// longer), or its checkout folder disappears. Unlike a PID lease, nothing dies with the hook's
// own shell: a hook allocates, exits, and the ports stay with the session.
import { z } from "zod";
import type { CheckoutExists } from "./checkout.ts";
import { PortError } from "./errors.ts";
import { durationSchema } from "./events.ts";
import { allocationSchema, type Row, rfc3339, sessionIdSchema, unknownKeys } from "./model.ts";
import { COLUMNS, OWNER_KEY, ownerKey } from "./queries.ts";
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
  owner: z
    .string()
    .describe(
      "another user's session, shown only to the registry's own user (or root): whose it is (#28)",
    )
    .optional(),
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
 * over); one that belongs to no session (the main checkout's) is left alone. A session is its
 * owner's (#28): the row's owner holds it, as `sess-1` of another user is another session.
 */
export function holdForSession(store: Store, a: Row, session: string): Row {
  startSession(store, session, ownerKey(a.owner_uid));
  if (a.lease_session === null || a.lease_session === session) return a;
  const row = store.db
    .query<Row, [string, number]>(
      `UPDATE allocations SET lease_session = ? WHERE id = ? RETURNING ${COLUMNS}`,
    )
    .get(session, a.id);
  if (!row) throw new PortError("storage", "session lease updated no row");
  return row;
}

/** Records the owner's session (once); `owner` is an ownerKey. Call inside `store.write()`. */
export function startSession(store: Store, session: string, owner: number): void {
  store.db
    .query(
      "INSERT INTO sessions (id, owner_uid, started_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .run(session, ownerUid(owner), rfc3339(store.now()));
}

/** A heartbeat: the owner's session stays alive for `ttlSeconds` more (created if it is new). */
export function heartbeat(
  store: Store,
  session: string,
  ttlSeconds: number,
  owner: number,
): SessionRecord {
  return store.write(() => {
    startSession(store, session, owner);
    store.db
      .query(
        `UPDATE sessions SET heartbeat_at = ?, ttl_seconds = ? WHERE id = ? AND ${OWNER_KEY} = ?`,
      )
      .run(rfc3339(store.now()), ttlSeconds, session, owner);
    return sessionOf(store, session, owner) as SessionRecord;
  });
}

/**
 * Ends the owner's session: releases what it holds (each with a `lease_ended` event) and
 * forgets it. Another user's session of the same id is another session, untouched.
 */
export function endSession(
  store: Store,
  session: string,
  owner: number,
  pid?: number | null,
): Row[] {
  return store.write(() => end(store, session, owner, `session ${session} ended`, pid));
}

/**
 * Every session, oldest first, with what it holds; `owner` (an ownerKey): that owner's only.
 */
export function listSessions(store: Store, owner?: number): SessionRecord[] {
  const where = owner === undefined ? "" : `WHERE ${OWNER_KEY} = ?`;
  return store.db
    .query<SessionRow, number[]>(
      `SELECT ${SESSION_COLUMNS} FROM sessions ${where} ORDER BY started_at, id, owner_uid`,
    )
    .all(...(owner === undefined ? [] : [owner]))
    .map((row) => withAllocations(store, row));
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
      const why = `session ${s.id} sent no heartbeat for ${s.ttl_seconds}s`;
      ended.push(...end(store, s.id, ownerKey(s.owner_uid), why));
    }
    const gone = orphaned.filter((a) => !ended.some((e) => e.id === a.id) && store.byId(a.id));
    store.remove(gone, "lease_ended", (a) => ({
      reason: `session ${a.lease_session}: the checkout at ${a.checkout} no longer exists`,
    }));
    const sessions = new Map(gone.map((a) => [`${a.owner_uid}\u0000${a.lease_session}`, a]));
    for (const a of sessions.values()) {
      forgetIfEmpty(store, a.lease_session as string, ownerKey(a.owner_uid));
    }
    return [...ended, ...gone];
  });
}

/** A session as the store holds it: with its owner (owner_uid; null: the daemon's user). */
export type SessionRecord = Session & { owner_uid: number | null };

// --- internal ---

const SESSION_COLUMNS = "id, started_at, heartbeat_at, ttl_seconds, owner_uid";

/** The sessions table's owner_uid for an ownerKey. */
function ownerUid(owner: number): number | null {
  return owner === -1 ? null : owner;
}

function heldBy(store: Store, session: string, owner: number): Row[] {
  return store.db
    .query<Row, [string, number]>(
      `SELECT ${COLUMNS} FROM allocations WHERE lease_session = ? AND ${OWNER_KEY} = ? ORDER BY id`,
    )
    .all(session, owner);
}

function end(
  store: Store,
  session: string,
  owner: number,
  reason: string,
  pid?: number | null,
): Row[] {
  const held = heldBy(store, session, owner);
  store.remove(held, "lease_ended", () => ({ pid: pid ?? null, reason }));
  store.db.query(`DELETE FROM sessions WHERE id = ? AND ${OWNER_KEY} = ?`).run(session, owner);
  return held;
}

function forgetIfEmpty(store: Store, session: string, owner: number): void {
  store.db
    .query(
      `DELETE FROM sessions WHERE id = ? AND ${OWNER_KEY} = ? AND NOT EXISTS
         (SELECT 1 FROM allocations WHERE lease_session = ? AND ${OWNER_KEY} = ?)`,
    )
    .run(session, owner, session, owner);
}

interface SessionRow {
  id: string;
  started_at: string;
  heartbeat_at: string | null;
  ttl_seconds: number | null;
  owner_uid: number | null;
}

function lapsedSessions(store: Store): SessionRow[] {
  const now = store.now().getTime();
  return store.db
    .query<SessionRow, []>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE ttl_seconds IS NOT NULL`)
    .all()
    .filter((s) => Date.parse(s.heartbeat_at ?? s.started_at) + (s.ttl_seconds ?? 0) * 1000 < now);
}

function sessionOf(store: Store, id: string, owner: number): SessionRecord | undefined {
  const row = store.db
    .query<SessionRow, [string, number]>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ? AND ${OWNER_KEY} = ?`,
    )
    .get(id, owner);
  return row ? withAllocations(store, row) : undefined;
}

function withAllocations(store: Store, row: SessionRow): SessionRecord {
  return { ...row, allocations: heldBy(store, row.id, ownerKey(row.owner_uid)) };
}
