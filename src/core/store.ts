// SQLite persistence: schema, migrations (PRAGMA user_version) and queries. Uniqueness is the
// database's job (UNIQUE(port), UNIQUE(app, instance, service)), so two daemons sharing one
// file still never record one port twice.
import { Database, SQLiteError } from "bun:sqlite";
import { closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { BUSY_TIMEOUT_MS } from "./config.ts";
import { PortError } from "./errors.ts";
import type { Allocation, Filter, ListQuery } from "./model.ts";

export interface NewAllocation {
  app: string;
  instance: string;
  service: string;
  port: number;
  created_at: string;
}

export class Store {
  readonly db: Database;
  /** The file (or `:memory:`), as given. */
  readonly path: string;
  #ports: Uint8Array | null = null;
  /** The statements on every request's path, prepared once. */
  readonly #q: ReturnType<typeof prepareHot>;
  #dataVersion = -1;

  /** Opens (creating if needed, mode 0600) the database at `path`, or `:memory:`. */
  constructor(path: string) {
    if (path !== ":memory:") prepareFile(path);
    let db: Database | undefined;
    try {
      db = new Database(path, { create: true, strict: true });
      // busy_timeout first: switching to WAL needs a lock another daemon may briefly hold.
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Refuse a newer schema before anything (WAL files included) is written.
      checkVersion(db);
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = FULL");
      migrate(db);
    } catch (err) {
      db?.close(false);
      throw asStorageError(err, path);
    }
    this.db = db;
    this.path = path;
    this.#q = prepareHot(db);
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE); the port cache is reset on failure. */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.#ports = null;
      throw err instanceof PortError ? err : asStorageError(err);
    }
  }

  insert(a: NewAllocation): Allocation {
    const row = this.#q.insert.get(a.app, a.instance, a.service, a.port, a.created_at);
    if (!row) throw new PortError("storage", "insert returned no row");
    this.#ports?.fill(1, row.port, row.port + 1);
    return row;
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
  deleteById(id: number): Allocation | null {
    return this.write(() => {
      const row = this.db
        .query<Allocation, [number]>(`DELETE FROM allocations WHERE id = ? RETURNING ${COLUMNS}`)
        .get(id);
      if (row) this.#ports?.fill(0, row.port, row.port + 1);
      return row;
    });
  }

  /** Deletes every allocation matching all fields of a non-empty filter. */
  deleteWhere(filter: Filter): Allocation[] {
    const { where, params } = whereClause(filter);
    if (!where) throw new PortError("bad_request", "refusing to delete without a filter");
    return this.write(() => {
      const rows = this.db
        .query<Allocation, (string | number)[]>(
          `DELETE FROM allocations ${where} RETURNING ${COLUMNS}`,
        )
        .all(...params);
      for (const r of rows) this.#ports?.fill(0, r.port, r.port + 1);
      return rows.sort((a, b) => a.id - b.id);
    });
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

  close(): void {
    this.db.close(false);
  }
}

/** Turns a UNIQUE violation into the matching conflict code, or null if it is something else. */
export function uniqueViolation(err: unknown): "port_allocated" | "service_allocated" | null {
  if (!(err instanceof SQLiteError) || !String(err.code).startsWith("SQLITE_CONSTRAINT"))
    return null;
  return err.message.includes("allocations.port") ? "port_allocated" : "service_allocated";
}

// --- internal ---

const COLUMNS = "id, app, instance, service, port, created_at";
const SQLITE_HEADER = "SQLite format 3\0";

/** Each entry upgrades the schema by one version; never edit one that has shipped. */
const MIGRATIONS: string[] = [
  `CREATE TABLE allocations (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     app        TEXT    NOT NULL,
     instance   TEXT    NOT NULL,
     service    TEXT    NOT NULL,
     port       INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
     created_at TEXT    NOT NULL,
     UNIQUE (port),
     UNIQUE (app, instance, service)
   )`,
];

function prepareHot(db: Database) {
  return {
    insert: db.query<Allocation, [string, string, string, number, string]>(
      `INSERT INTO allocations (app, instance, service, port, created_at)
       VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    ),
    byPort: db.query<Allocation, [number]>(`SELECT ${COLUMNS} FROM allocations WHERE port = ?`),
    byService: db.query<Allocation, [string, string, string]>(
      `SELECT ${COLUMNS} FROM allocations WHERE app = ? AND instance = ? AND service = ?`,
    ),
  };
}

function schemaVersion(db: Database): number {
  return db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
}

function checkVersion(db: Database): number {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new PortError(
      "storage",
      `database schema version ${current} is newer than this port-server understands (${MIGRATIONS.length}); upgrade port-server`,
    );
  }
  return current;
}

function migrate(db: Database): void {
  db.transaction(() => {
    const current = checkVersion(db);
    for (let v = current; v < MIGRATIONS.length; v++) db.run(MIGRATIONS[v] as string);
    if (current < MIGRATIONS.length) db.run(`PRAGMA user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** Creates a missing database file with mode 0600; refuses an existing file that is not SQLite. */
function prepareFile(path: string): void {
  if (!existsSync(path)) {
    try {
      writeFileSync(path, "", { mode: 0o600, flag: "wx" });
    } catch (err) {
      // Another daemon starting at the same moment created it first: fine.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    return;
  }
  if (statSync(path).size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== SQLITE_HEADER) {
    throw new PortError("storage", `${path} is not an SQLite database; refusing to touch it`);
  }
}

function whereClause(f: Partial<Filter>): { where: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const key of ["app", "instance", "service", "port"] as const) {
    const value = f[key];
    if (value === undefined) continue;
    parts.push(`${key} = ?`);
    params.push(value);
  }
  return { where: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

function asStorageError(err: unknown, path?: string): PortError {
  if (err instanceof PortError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PortError(
    "storage",
    path ? `cannot open database ${path}: ${message}` : `database error: ${message}`,
  );
}
