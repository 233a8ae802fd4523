// SQLite persistence: the queries and every change with its event. Uniqueness is the
// database's job (UNIQUE(port), UNIQUE(owner, app, instance, service), UNIQUE(name)), so two
// daemons sharing one file still never record one port twice. Opening and the schema: dbfile.ts, migrations.ts.
import type { Database } from "bun:sqlite";
import { asStorageError, openDatabase } from "./dbfile.ts";
import { PortError } from "./errors.ts";
import { type EventContext, eventsToTrim, queryEvents, recordEvent, trimEvents } from "./events.ts";
import { type EventRow, type Filter, type ListQuery, type Row, rfc3339 } from "./model.ts";
import { freeName } from "./names.ts";
import { PortCache, type PortRecord } from "./portcache.ts";
import {
  COLUMNS,
  insertParams,
  type NewAllocation,
  type Owned,
  PROXY_TABLE_SQL,
  prepareHot,
  uniqueViolation,
  whereClause,
} from "./queries.ts";

export interface StoreOptions {
  /** The clock of event times and `last_seen`. */
  now?: () => Date;
}

export type { PortRecord } from "./portcache.ts";

/** An event's context, or a function of the row that gives it (and may throw to refuse). */
export type Ctx = EventContext | ((row: Row) => EventContext);

function contextOf(ctx: Ctx): (row: Row) => EventContext {
  return typeof ctx === "function" ? ctx : () => ctx;
}

export type { NewAllocation } from "./queries.ts";
export { uniqueViolation } from "./queries.ts";

/**
 * Every change goes through a method that also appends its event, inside one transaction: the
 * history never has an event without its change, nor a change without its event.
 */
export class Store {
  readonly db: Database;
  /** The file (or `:memory:`), as given. */
  readonly path: string;
  readonly now: () => Date;
  /** The statements on every request's path, prepared once. */
  readonly #q: ReturnType<typeof prepareHot>;
  readonly #cache: PortCache;

  /** Opens (creating if needed, mode 0600) the database at `path`, or `:memory:`. */
  constructor(path: string, opts: StoreOptions = {}) {
    this.db = openDatabase(path);
    this.db.run(PROXY_TABLE_SQL);
    this.path = path;
    this.now = opts.now ?? (() => new Date());
    const q = prepareHot(this.db);
    this.#q = q;
    this.#cache = new PortCache(() => q.dataVersion.get()?.data_version ?? 0);
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); the port cache is reset on failure. */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.#cache.reset();
      throw err instanceof PortError ? err : asStorageError(err);
    } finally {
      this.#cache.written();
    }
  }

  /** Runs `fn` in a savepoint inside `write()`: when it throws, its changes alone are undone. */
  savepoint<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      this.#cache.reset();
      throw err;
    }
  }

  /** Inserts a row and its `allocated` (or `imported`) event. Call inside `write()`. */
  insert(
    a: NewAllocation,
    ctx: EventContext = { reason: "allocated" },
    kind: "allocated" | "imported" = "allocated",
  ): Row {
    let row: Row | null;
    const name = a.name ?? freeName(a, (n) => this.byName(n) !== null);
    try {
      row = this.#q.insert.get(...insertParams({ ...a, name }));
    } catch (err) {
      // Taken under us (another daemon on this file): the cache is read anew, a retry picks again.
      if (uniqueViolation(err) === "port_allocated") this.#cache.reset();
      throw err;
    }
    if (!row) throw new PortError("storage", "insert returned no row");
    this.#cache.mark(row, true);
    recordEvent(this.db, kind, row, ctx, this.#at());
    return row;
  }

  byId(id: number): Row | null {
    return this.#q.byId.get(id);
  }

  byPort(port: number): Row | null {
    return this.#q.byPort.get(port);
  }

  /** The allocation named `name` (a full hostname, `web.shop.localhost`). */
  byName(name: string): Row | null {
    return this.#q.byName.get(name);
  }

  /**
   * The proxy's port in every `url` from now on (null: no proxy, no URLs). Set once the proxy
   * is bound, before the first request.
   */
  setProxyPort(port: number | null): void {
    this.db.run("DELETE FROM temp.proxy");
    if (port !== null) this.db.run("INSERT INTO temp.proxy (port) VALUES (?)", [port]);
    this.#cache.reset();
  }

  /**
   * Marks an allocation as serving HTTP (it answered through the proxy, or `run` started it as
   * a dev server): from now on it has a `url`. Not an ownership change: no event.
   */
  markHttp(id: number): void {
    const mark = () => {
      this.db.run("UPDATE allocations SET http = 1 WHERE id = ? AND http = 0", [id]);
    };
    if (this.db.inTransaction) mark();
    else this.write(mark);
  }

  /** The owner's allocation of app/instance/service (`owner`: an ownerKey; names are per user). */
  byService(owner: number, app: string, instance: string, service: string): Row | null {
    return this.#q.byService.get(owner, app, instance, service);
  }

  /**
   * The owner's allocation whose environment variable `service` would make too (envkey.ts).
   * In write().
   */
  envKeyTwin(owner: number, app: string, instance: string, service: string): Row | null {
    const other = this.#cache.keyTwin(owner, app, instance, service, () =>
      this.#q.services.all(owner, app, instance).map((r) => r.service),
    );
    return other === undefined ? null : this.byService(owner, app, instance, other);
  }

  /** `owner` (an ownerKey) limits it to one owner's rows. */
  list(q: Owned<ListQuery> = {}): Row[] {
    const { where, params } = whereClause(q);
    return this.#select(where, params);
  }

  /**
   * Deletes one allocation; returns it, or null when there was none. `ctx` may be a function of
   * the row, which may throw to refuse (another user's allocation): then nothing changes.
   */
  deleteById(id: number, ctx: Ctx = { reason: "released by id" }): Row | null {
    return this.write(() => {
      const row = this.byId(id);
      if (row) this.remove([row], "released", contextOf(ctx));
      return row;
    });
  }

  /**
   * Deletes every allocation matching all fields of a non-empty filter; `choose` (which may
   * throw, changing nothing) picks among the matching rows those to delete.
   */
  deleteWhere(
    filter: Owned<Filter>,
    ctx: Ctx = { reason: "released" },
    choose: (rows: Row[]) => Row[] = (rows) => rows,
  ): Row[] {
    const { where, params } = whereClause(filter);
    if (!where) throw new PortError("bad_request", "refusing to delete without a filter");
    return this.write(() =>
      this.remove(choose(this.#select(where, params)), "released", contextOf(ctx)),
    );
  }

  /** The rows of a block, first port first. */
  block(blockId: number): Row[] {
    return this.#select("WHERE block_id = ?", [blockId]).sort((a, b) => a.port - b.port);
  }

  /** Makes a row part of a block. Call inside `write()`, right after the rows' insert. */
  setBlock(id: number, blockId: number): Row {
    const row = this.db
      .query<Row, [number, number]>(
        `UPDATE allocations SET block_id = ? WHERE id = ? RETURNING ${COLUMNS}`,
      )
      .get(blockId, id);
    if (!row) throw new PortError("storage", "block update changed no row");
    return row;
  }

  /**
   * Deletes these rows, each with its event, and the rest of their blocks with them (a block is
   * released together). Call inside `write()`.
   */
  remove(
    given: Row[],
    kind: "released" | "pruned" | "lease_ended",
    ctx: (a: Row) => EventContext,
  ): Row[] {
    const at = this.#at();
    const rows = this.#withBlocks(given);
    for (const r of rows) {
      this.#q.deleteById.run(r.id);
      this.#cache.mark(r, false);
      recordEvent(this.db, kind, r, ctx(r), at);
    }
    return rows;
  }

  /** Records a new owning checkout, with its `taken_over` event. Call inside `write()`. */
  takeOver(a: Row, checkout: string, ctx: EventContext): Row {
    const row = this.db
      .query<Row, [string, number]>(
        `UPDATE allocations SET checkout = ? WHERE id = ? RETURNING ${COLUMNS}`,
      )
      .get(checkout, a.id);
    if (!row) throw new PortError("storage", "take-over updated no row");
    recordEvent(this.db, "taken_over", row, ctx, this.#at());
    return row;
  }

  /** Allocations tied to a process. */
  leases(): Row[] {
    return this.#q.leases.all().sort((a, b) => a.id - b.id);
  }

  /** Allocations whose `last_seen` is unset or older than `before`. */
  seenBefore(before: string): Pick<Row, "id" | "port">[] {
    return this.db
      .query<Pick<Row, "id" | "port">, [string]>(
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

  events(q: Parameters<typeof queryEvents>[1]): EventRow[] {
    return queryEvents(this.db, q);
  }

  /** The newest event about a port. */
  lastEvent(port: number): EventRow | null {
    return this.portRecord(port).lastEvent;
  }

  /**
   * A port's holder and newest event, for `GET /v1/ports/N`, which asks on every call: kept
   * until something changes (portcache.ts), so a busy `check` costs one statement, not three.
   */
  portRecord(port: number): PortRecord {
    return this.#cache.record(port, () => ({
      holder: this.#q.byPort.get(port),
      lastEvent: this.#q.lastEvent.get(port),
    }));
  }

  trimEvents(): number {
    if (!eventsToTrim(this.db, this.now())) return 0;
    return this.write(() => trimEvents(this.db, this.now()));
  }

  /** Which ports are allocated, as a 65536-entry map (portcache.ts). Call inside `write()`. */
  allocatedPorts(): Uint8Array {
    return this.#cache.ports(() =>
      this.db
        .query<{ port: number }, []>("SELECT port FROM allocations")
        .all()
        .map((r) => r.port),
    );
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

  #withBlocks(rows: Row[]): Row[] {
    if (!rows.some((r) => r.block_id !== null)) return rows;
    const ids = new Set(rows.map((r) => r.id));
    const out = [...rows];
    for (const r of rows) {
      if (r.block_id === null) continue;
      for (const b of this.block(r.block_id)) {
        if (!ids.has(b.id)) {
          ids.add(b.id);
          out.push(b);
        }
      }
    }
    return out.sort((a, b) => a.id - b.id);
  }

  #select(where: string, params: (string | number)[]): Row[] {
    return this.db
      .query<Row, (string | number)[]>(`SELECT ${COLUMNS} FROM allocations ${where} ORDER BY id`)
      .all(...params);
  }
}
