// The store's SQL: the allocation columns, the statements on every request's path (prepared
// once per connection), WHERE clauses from filters, and UNIQUE violations told apart.
import { type Database, SQLiteError } from "bun:sqlite";
import type { EventRow, Filter, Row } from "./model.ts";

/** Turns a UNIQUE violation into the matching conflict code, or null if it is something else. */
export function uniqueViolation(
  err: unknown,
): "port_allocated" | "service_allocated" | "name_taken" | null {
  if (!(err instanceof SQLiteError) || !String(err.code).startsWith("SQLITE_CONSTRAINT"))
    return null;
  if (err.message.includes("allocations.port")) return "port_allocated";
  return err.message.includes("allocations.name") ? "name_taken" : "service_allocated";
}

/**
 * Whose a row is, as one number: the owner's uid, or -1 for the daemon's own user (owner_uid
 * NULL). Names are each owner's own (schema v7): every lookup by name compares this expression,
 * the one the UNIQUE index of (owner, app, instance, service) is made of.
 */
export const OWNER_KEY = "ifnull(owner_uid, -1)";

/** The key of a row's owner_uid (null: the daemon's own user). */
export function ownerKey(ownerUid: number | null | undefined): number {
  return ownerUid ?? -1;
}

export const EVENT_COLUMNS =
  "id, at, kind, app, instance, service, port, checkout, pid, reason, project, owner_uid";

/**
 * `url` is the name through the proxy, for an allocation that serves HTTP: its port is the
 * proxy's of this run, kept in the connection's temp table `proxy` (store.setProxyPort); null
 * while no proxy listens.
 */
export const COLUMNS = `id, app, instance, service, port, created_at, checkout, last_seen, lease_pid,
  lease_started_at, block_id, lease_session, name, CASE WHEN http = 1 THEN 'http://' || name ||
    (SELECT CASE port WHEN 80 THEN '' ELSE ':' || port END FROM temp.proxy) END AS url,
  owner_uid`;

/** Made on every connection before any statement that reads COLUMNS is prepared. */
export const PROXY_TABLE_SQL = "CREATE TEMP TABLE IF NOT EXISTS proxy (port INTEGER NOT NULL)";

export interface NewAllocation {
  /** Kept by import when free; otherwise the database picks the next id. */
  id?: number | null;
  app: string;
  instance: string;
  service: string;
  port: number;
  created_at: string;
  checkout?: string | null;
  last_seen?: string | null;
  lease_pid?: number | null;
  lease_started_at?: string | null;
  block_id?: number | null;
  /** The allocation's name under .localhost (names.ts), unique; store.insert derives one. */
  name?: string;
  /** Whether it serves HTTP (its `url` is then set). */
  http?: boolean;
  lease_session?: string | null;
  /** The owner's uid; null (or absent) for the daemon's own user. */
  owner_uid?: number | null;
}

export type InsertParams = [
  number | null,
  string,
  string,
  string,
  number,
  string,
  string | null,
  string | null,
  number | null,
  string | null,
  number | null,
  string,
  number,
  string | null,
  number | null,
];

export function insertParams(a: NewAllocation): InsertParams {
  return [
    a.id ?? null,
    a.app,
    a.instance,
    a.service,
    a.port,
    a.created_at,
    a.checkout ?? null,
    a.last_seen ?? null,
    a.lease_pid ?? null,
    a.lease_started_at ?? null,
    a.block_id ?? null,
    a.name ?? "",
    a.http ? 1 : 0,
    a.lease_session ?? null,
    a.owner_uid ?? null,
  ];
}

/**
 * Every auto-assign runs it. No ORDER BY: SQLite would scan the whole table in id order rather
 * than use the partial index (store.leases() sorts the few rows it finds).
 */
export const LEASES_SQL = `SELECT ${COLUMNS} FROM allocations WHERE lease_pid IS NOT NULL`;

export function prepareHot(db: Database) {
  return {
    insert: db.query<Row, InsertParams>(
      `INSERT INTO allocations (id, app, instance, service, port, created_at, checkout, last_seen,
                                lease_pid, lease_started_at, block_id, name, http, lease_session,
                                owner_uid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    ),
    byId: db.query<Row, [number]>(`SELECT ${COLUMNS} FROM allocations WHERE id = ?`),
    deleteById: db.query<unknown, [number]>("DELETE FROM allocations WHERE id = ?"),
    leases: db.query<Row, []>(LEASES_SQL),
    dataVersion: db.query<{ data_version: number }, []>("PRAGMA data_version"),
    lastEvent: db.query<EventRow, [number]>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE port = ? ORDER BY id DESC LIMIT 1`,
    ),
    byPort: db.query<Row, [number]>(`SELECT ${COLUMNS} FROM allocations WHERE port = ?`),
    services: db.query<{ service: string }, [number, string, string]>(
      `SELECT service FROM allocations WHERE ${OWNER_KEY} = ? AND app = ? AND instance = ?`,
    ),
    byName: db.query<Row, [string]>(`SELECT ${COLUMNS} FROM allocations WHERE name = ?`),
    byService: db.query<Row, [number, string, string, string]>(
      `SELECT ${COLUMNS} FROM allocations
       WHERE ${OWNER_KEY} = ? AND app = ? AND instance = ? AND service = ?`,
    ),
  };
}

/** One condition with its parameter: `["at >= ?", since]`. */
export type Condition = [sql: string, param: string | number];

/** A filter or query as the store takes it: `owner` (an ownerKey) limits it to one owner's rows. */
export type Owned<T> = T & { owner?: number };

/**
 * `WHERE` matching every field `f` gives (app, instance, service, port, checkout, owner) and
 * every `extra` condition, AND-ed; "" when there is none. Allocations and events share the
 * columns.
 */
export function whereClause(
  f: Owned<Partial<Filter>>,
  extra: Condition[] = [],
): { where: string; params: (string | number)[] } {
  const conditions: Condition[] = [];
  for (const key of ["app", "instance", "service", "port", "checkout"] as const) {
    const value = f[key];
    if (value !== undefined) conditions.push([`${key} = ?`, value]);
  }
  if (f.owner !== undefined) conditions.push([`${OWNER_KEY} = ?`, f.owner]);
  conditions.push(...extra);
  const where = conditions.length ? `WHERE ${conditions.map(([sql]) => sql).join(" AND ")}` : "";
  return { where, params: conditions.map(([, param]) => param) };
}
