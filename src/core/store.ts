// SQLite persistence: schema, migrations (PRAGMA user_version) and queries. Uniqueness is the
// database's job (UNIQUE(port), UNIQUE(app, instance, service)), so two daemons sharing one
// file still never record one port twice.
import { Database } from "bun:sqlite";
import { BUSY_TIMEOUT_MS } from "./config.ts";
import { asStorageError, prepareFile } from "./dbfile.ts";
import { PortError } from "./errors.ts";
import {
  type EventContext,
  eventsToTrim,
  type PortEvent,
  queryEvents,
  recordEvent,
  trimEvents,
} from "./events.ts";
import { checkOurs, checkVersion, migrate } from "./migrations.ts";
import { type Allocation, type Filter, type ListQuery, rfc3339 } from "./model.ts";
import { COLUMNS, prepareHot, whereClause } from "./queries.ts";

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
}

export interface StoreOptions {
  /** The clock of event times and `last_seen`. */
  now?: () => Date;
}

/**
 * Every change goes through a method that also appends its event, inside one transaction: the
 * history never has an event without its change, nor a change without its event.
 */
export { uniqueViolation } from "./queries.ts";

export interface PortRecord {
  holder: Allocation | null;
  lastEvent: PortEvent | null;
}

export class Store {
  readonly db: Database;
  /** The file (or `:memory:`), as given. */
  readonly path: string;
  readonly now: () => Date;
  #ports: Uint8Array | null = null;
  /** The statements on every request's path, prepared once. */
  readonly #q: ReturnType<typeof prepareHot>;
  #dataVersion = -1;
  /** portRecord() answers, valid while data_version is #recordsVersion and we have not written. */
  readonly #records = new Map<number, PortRecord>();
  #recordsVersion = -1;

  /** Opens (creating if needed, mode 0600) the database at `path`, or `:memory:`. */
  constructor(path: string, opts: StoreOptions = {}) {
    if (path !== ":memory:") prepareFile(path);
    let db: Database | undefined;
    try {
      db = new Database(path, { create: true, strict: true });
      // busy_timeout first: switching to WAL needs a lock another daemon may briefly hold.
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Refuse a newer schema, or another program's database, before anything (WAL files
      // included) is written.
      checkVersion(db);
      checkOurs(db);
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = FULL");
      migrate(db);
    } catch (err) {
      db?.close(false);
      throw asStorageError(err, path);
    }
    this.db = db;
    this.path = path;
    this.now = opts.now ?? (() => new Date());
    this.#q = prepareHot(db);
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); the port cache is reset on failure. */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.#ports = null;
      throw err instanceof PortError ? err : asStorageError(err);
    } finally {
      this.#records.clear();
    }
  }

  /** Inserts a row and its `allocated` (or `imported`) event. Call inside `write()`. */
  insert(
    a: NewAllocation,
    ctx: EventContext = { reason: "allocated" },
    kind: "allocated" | "imported" = "allocated",
  ): Allocation {
    const row = this.#q.insert.get(
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
    );
    if (!row) throw new PortError("storage", "insert returned no row");
    this.#ports?.fill(1, row.port, row.port + 1);
    recordEvent(this.db, kind, row, ctx, this.#at());
    return row;
  }

  byId(id: number): Allocation | null {
    return this.#q.byId.get(id);
  }

  byPort(port: number): Allocation | null {
    return this.#q.byPort.get(port);
  }

  byService(app: string, instance: string, service: string): Allocation | null {
    return this.#q.byService.get(app, instance, service);
  }

  list(q: ListQuery = {}): Allocation[] {
    const { where, params } = whereClause(q);
    return this.db
      .query<Allocation, (string | number)[]>(
        `SELECT ${COLUMNS} FROM allocations ${where} ORDER BY id`,
      )
      .all(...params);
  }

  /** Deletes one allocation; returns it, or null when there was none. */
  deleteById(id: number, ctx: EventContext = { reason: "released by id" }): Allocation | null {
    return this.write(() => {
      const row = this.byId(id);
      if (row) this.remove([row], "released", () => ctx);
      return row;
    });
  }

  /** Deletes every allocation matching all fields of a non-empty filter. */
  deleteWhere(filter: Filter, ctx: EventContext = { reason: "released" }): Allocation[] {
    const { where, params } = whereClause(filter);
    if (!where) throw new PortError("bad_request", "refusing to delete without a filter");
    return this.write(() => {
      const rows = this.db
        .query<Allocation, (string | number)[]>(
          `SELECT ${COLUMNS} FROM allocations ${where} ORDER BY id`,
        )
        .all(...params);
      return this.remove(rows, "released", () => ctx);
    });
  }

  /** Deletes these rows, each with its event. Call inside `write()`. */
  remove(
    rows: Allocation[],
    kind: "released" | "pruned" | "lease_ended",
    ctx: (a: Allocation) => EventContext,
  ): Allocation[] {
    const at = this.#at();
    for (const r of rows) {
      this.#q.deleteById.run(r.id);
      this.#ports?.fill(0, r.port, r.port + 1);
      recordEvent(this.db, kind, r, ctx(r), at);
    }
    return rows;
  }

  /** Records a new owning checkout, with its `taken_over` event. Call inside `write()`. */
  takeOver(a: Allocation, checkout: string, ctx: EventContext): Allocation {
    const row = this.db
      .query<Allocation, [string, number]>(
        `UPDATE allocations SET checkout = ? WHERE id = ? RETURNING ${COLUMNS}`,
      )
      .get(checkout, a.id);
    if (!row) throw new PortError("storage", "take-over updated no row");
    recordEvent(this.db, "taken_over", row, ctx, this.#at());
    return row;
  }

  /** Allocations tied to a process. */
  leases(): Allocation[] {
    return this.#q.leases.all().sort((a, b) => a.id - b.id);
  }

  /** Allocations whose `last_seen` is unset or older than `before`. */
  seenBefore(before: string): Pick<Allocation, "id" | "port">[] {
    return this.db
      .query<Pick<Allocation, "id" | "port">, [string]>(
        "SELECT id, port FROM allocations WHERE last_seen IS NULL OR last_seen < ?",
      )
      .all(before);
  }

  /** Sets `last_seen` of these allocations in one transaction. Not an ownership change: no event. */
  markSeen(ids: number[], at: string): void {
    if (ids.length === 0) return;
    const update = this.db.query("UPDATE allocations SET last_seen = ? WHERE id = ?");
    this.write(() => {
      for (const id of ids) update.run(at, id);
    });
  }

  events(q: Parameters<typeof queryEvents>[1]): PortEvent[] {
    return queryEvents(this.db, q);
  }

  /** The newest event of a port, or null. */
  /** The newest event about a port. */
  lastEvent(port: number): PortEvent | null {
    return this.portRecord(port).lastEvent;
  }

  /**
   * A port's holder and newest event, for `GET /v1/ports/N`, which asks on every call: answers
   * are kept until something changes, any write here or a commit by another connection
   * (data_version), so a busy `check` costs one statement instead of three.
   */
  portRecord(port: number): PortRecord {
    const version = this.#q.dataVersion.get()?.data_version ?? 0;
    if (version !== this.#recordsVersion) {
      this.#records.clear();
      this.#recordsVersion = version;
    }
    let record = this.#records.get(port);
    if (!record) {
      record = { holder: this.#q.byPort.get(port), lastEvent: this.#q.lastEvent.get(port) };
      this.#records.set(port, record);
    }
    return record;
  }

  trimEvents(): number {
    if (!eventsToTrim(this.db, this.now())) return 0;
    return this.write(() => trimEvents(this.db, this.now()));
  }

  /**
   * Which ports are allocated, as a 65536-entry map. Kept in memory and reloaded only when
   * another connection (another daemon on the same file) has committed since we last looked,
   * so auto-assign stays fast with tens of thousands of rows. Call inside `write()`.
   */
  allocatedPorts(): Uint8Array {
    const version =
      this.db.query<{ data_version: number }, []>("PRAGMA data_version").get()?.data_version ?? 0;
    if (!this.#ports || version !== this.#dataVersion) {
      const ports = new Uint8Array(65536);
      for (const { port } of this.db
        .query<{ port: number }, []>("SELECT port FROM allocations")
        .all()) {
        ports[port] = 1;
      }
      this.#ports = ports;
      this.#dataVersion = version;
    }
    return this.#ports;
  }

  count(): number {
    return this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM allocations").get()?.n ?? 0;
  }

  /** A cheap query that fails when the file has become unusable. */
  ping(): void {
    this.db.query("SELECT 1 FROM allocations LIMIT 1").get();
  }

  /** `PRAGMA quick_check`: "ok", or the problems SQLite found, one per line. */
  quickCheck(): string {
    const rows = this.db.query<{ quick_check: string }, []>("PRAGMA quick_check").all();
    return rows.map((r) => r.quick_check).join("\n");
  }

  close(): void {
    this.db.close(false);
  }

  #at(): string {
    return rfc3339(this.now());
  }
}
