// The history: one append-only `events` row per change to the registry, written by the store in
// the same transaction as the change. Shapes (zod) and the queries that read and trim it.
import type { Database } from "bun:sqlite";
import { z } from "zod";
import { EVENTS_KEEP, EVENTS_MAX_AGE_MS } from "./config.ts";
import { PortError } from "./errors.ts";
import {
  anyWhenEmpty,
  decimalUpTo,
  documentedName,
  type EventRow,
  type PortEvent,
  portTextSchema,
  type Row,
  rfc3339,
  unknownKeys,
} from "./model.ts";
import { EVENT_COLUMNS, whereClause } from "./queries.ts";

export { EVENT_KINDS, type EventKind, eventSchema, type PortEvent } from "./model.ts";

/** Who asked for a change, and why: recorded with its event. */
export interface EventContext {
  pid?: number | null;
  reason: string;
}

/** `30s`, `45m`, `3h`, `1d`, `2w` → milliseconds. */
export const durationSchema = z
  .string()
  .regex(/^\d{1,6}[smhdw]$/, { error: "must be a duration such as 30m, 3h, 1d or 2w" })
  .transform((s) => Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as keyof typeof UNIT_MS]);

/** RFC 3339 as `sinceBound` takes it (Date.parse), written out so the document can say it. */
const RFC3339 =
  "\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)";

export const eventsQuerySchema = z.strictObject(
  {
    app: anyWhenEmpty(documentedName),
    instance: anyWhenEmpty(documentedName),
    service: anyWhenEmpty(documentedName),
    port: anyWhenEmpty(portTextSchema()),
    since: anyWhenEmpty(
      z.string().meta({
        description: "a duration back from now (30m, 3h, 1d, 2w) or an RFC 3339 time",
        pattern: `^(?:\\d{1,6}[smhdw]|${RFC3339})$`,
      }),
    ),
    limit: anyWhenEmpty(
      z
        .string()
        .regex(decimalUpTo(EVENTS_KEEP), {
          error: `must be an integer between 1 and ${EVENTS_KEEP}`,
        })
        .transform(Number),
    ),
  },
  { error: unknownKeys },
);
export type EventsQuery = z.infer<typeof eventsQuerySchema>;

const DEFAULT_EVENTS_LIMIT = 1000;

/** `since` as an RFC 3339 lower bound: a duration counts back from `now`. */
export function sinceBound(since: string, now: Date): string {
  const ms = durationSchema.safeParse(since);
  if (ms.success) return rfc3339(new Date(now.getTime() - ms.data));
  const t = Date.parse(since);
  if (!/^\d{4}-\d\d-\d\dT/.test(since) || Number.isNaN(t)) {
    throw new PortError(
      "bad_request",
      "since must be a duration such as 30m, 3h, 1d or 2w, or an RFC 3339 time",
    );
  }
  return rfc3339(new Date(t));
}

export function recordEvent(
  db: Database,
  kind: PortEvent["kind"],
  a: Pick<Row, "app" | "instance" | "service" | "port" | "checkout"> & {
    project?: string;
    owner_uid?: number | null;
  },
  ctx: EventContext,
  at: string,
): void {
  db.query(
    `INSERT INTO events (at, kind, app, instance, service, port, checkout, pid, reason, project,
                         owner_uid)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    at,
    kind,
    a.app,
    a.instance,
    a.service,
    a.port,
    a.checkout,
    ctx.pid ?? null,
    ctx.reason,
    a.project ?? null,
    a.owner_uid ?? null,
  );
}

/** Newest first. `since` is an RFC 3339 lower bound (inclusive). */
export function queryEvents(
  db: Database,
  q: Omit<EventsQuery, "since"> & { since?: string; owner?: number },
): EventRow[] {
  const { where, params } = whereClause(q, q.since === undefined ? [] : [["at >= ?", q.since]]);
  return db
    .query<EventRow, (string | number)[]>(
      `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`,
    )
    .all(...params, q.limit ?? DEFAULT_EVENTS_LIMIT);
}

/** Keeps the newest EVENTS_KEEP events and none older than EVENTS_MAX_AGE_MS. */
export function trimEvents(db: Database, now: Date): number {
  const cutoff = rfc3339(new Date(now.getTime() - EVENTS_MAX_AGE_MS));
  return db
    .query("DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ? OR at < ?")
    .run(EVENTS_KEEP, cutoff).changes;
}

/** Whether trimEvents would delete anything: a read, so an idle daemon takes no write lock. */
export function eventsToTrim(db: Database, now: Date): boolean {
  const cutoff = rfc3339(new Date(now.getTime() - EVENTS_MAX_AGE_MS));
  const r = db
    .query<{ lo: number | null; hi: number | null; oldest: string | null }, []>(
      "SELECT min(id) AS lo, max(id) AS hi, min(at) AS oldest FROM events",
    )
    .get();
  if (!r || r.lo === null || r.hi === null) return false;
  return r.hi - r.lo >= EVENTS_KEEP || (r.oldest !== null && r.oldest < cutoff);
}

// --- internal ---

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
