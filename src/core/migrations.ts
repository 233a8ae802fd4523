// The schema, as numbered migrations applied by `PRAGMA user_version`. A database from a newer
// release is refused before anything is written to it; an older one is upgraded in one
// transaction, so a failure half-way leaves it exactly as it was.
import type { Database } from "bun:sqlite";
import { PortError } from "./errors.ts";
import { isLinkedWorktree, nameCandidates } from "./names.ts";

/** SQL, or SQL with a step in code (filling a new column from the rows already there). */
type Migration = string | ((db: Database) => void);

/** Each entry upgrades the schema by one version; never edit one that has shipped. */
const MIGRATIONS: readonly Migration[] = [
  // v1 (the first release, f5111d8).
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
  // v2: ownership (checkout, leases, last seen listening) and the history of every change.
  `ALTER TABLE allocations ADD COLUMN checkout TEXT;
   ALTER TABLE allocations ADD COLUMN last_seen TEXT;
   ALTER TABLE allocations ADD COLUMN lease_pid INTEGER CHECK (lease_pid > 0);
   ALTER TABLE allocations ADD COLUMN lease_started_at TEXT;
   CREATE INDEX allocations_lease ON allocations (lease_pid) WHERE lease_pid IS NOT NULL;
   CREATE TABLE events (
     id       INTEGER PRIMARY KEY AUTOINCREMENT,
     at       TEXT    NOT NULL,
     kind     TEXT    NOT NULL CHECK (kind IN
                ('allocated', 'released', 'taken_over', 'pruned', 'lease_ended', 'imported')),
     app      TEXT    NOT NULL,
     instance TEXT    NOT NULL,
     service  TEXT    NOT NULL,
     port     INTEGER NOT NULL,
     checkout TEXT,
     pid      INTEGER,
     reason   TEXT    NOT NULL
   );
   CREATE INDEX events_port ON events (port, id);
   CREATE INDEX events_at ON events (at);`,
  // v3: Compose project names as registry resources (one name, one checkout), blocks of
  // contiguous ports (a Compose range), and their events (the kinds' CHECK needs a new table).
  `CREATE TABLE projects (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     name       TEXT    NOT NULL,
     natural    TEXT    NOT NULL,
     app        TEXT    NOT NULL,
     instance   TEXT    NOT NULL,
     checkout   TEXT    NOT NULL,
     created_at TEXT    NOT NULL,
     UNIQUE (name),
     UNIQUE (checkout, natural)
   );
   ALTER TABLE allocations ADD COLUMN block_id INTEGER;
   CREATE INDEX allocations_block ON allocations (block_id) WHERE block_id IS NOT NULL;
   CREATE TABLE events_v3 (
     id       INTEGER PRIMARY KEY AUTOINCREMENT,
     at       TEXT    NOT NULL,
     kind     TEXT    NOT NULL CHECK (kind IN
                ('allocated', 'released', 'taken_over', 'pruned', 'lease_ended', 'imported',
                 'project_allocated', 'project_released', 'project_taken_over', 'project_pruned')),
     app      TEXT    NOT NULL,
     instance TEXT    NOT NULL,
     service  TEXT    NOT NULL,
     port     INTEGER NOT NULL,
     checkout TEXT,
     pid      INTEGER,
     reason   TEXT    NOT NULL,
     project  TEXT
   );
   INSERT INTO events_v3 (id, at, kind, app, instance, service, port, checkout, pid, reason)
     SELECT id, at, kind, app, instance, service, port, checkout, pid, reason FROM events;
   DROP TABLE events;
   ALTER TABLE events_v3 RENAME TO events;
   CREATE INDEX events_port ON events (port, id);
   CREATE INDEX events_at ON events (at);
   CREATE INDEX events_project ON events (project, id) WHERE project IS NOT NULL;`,
  // v4: names under .localhost (names.ts), one per allocation, and whether it serves HTTP.
  (db) => {
    db.exec(`ALTER TABLE allocations ADD COLUMN name TEXT;
             ALTER TABLE allocations ADD COLUMN http INTEGER NOT NULL DEFAULT 0 CHECK (http IN (0, 1));
             CREATE UNIQUE INDEX allocations_name ON allocations (name);`);
    nameExistingRows(db);
  },
  // v5: session leases (#26): allocations held until their agent session ends, its heartbeat
  // stops or its checkout disappears.
  `ALTER TABLE allocations ADD COLUMN lease_session TEXT;
   CREATE INDEX allocations_session ON allocations (lease_session)
     WHERE lease_session IS NOT NULL;
   CREATE TABLE sessions (
     id           TEXT    PRIMARY KEY,
     started_at   TEXT    NOT NULL,
     heartbeat_at TEXT,
     ttl_seconds  INTEGER CHECK (ttl_seconds > 0)
   );`,
  // v6: whose each allocation is (#28). NULL is the daemon's own user: every row written before
  // owners were recorded belongs to the user running the daemon; another user's rows carry
  // their uid. Events keep the owner of the allocation they are about, for the history's views.
  `ALTER TABLE allocations ADD COLUMN owner_uid INTEGER CHECK (owner_uid >= 0);
   ALTER TABLE projects ADD COLUMN owner_uid INTEGER CHECK (owner_uid >= 0);
   ALTER TABLE events ADD COLUMN owner_uid INTEGER CHECK (owner_uid >= 0);`,
  // v7: names are each user's own (#28): two users' clones of one repository are both
  // shop/main/web, each with a port of its own. A row is known by (owner, app, instance,
  // service), the owner NULL for the daemon's user (hence ifnull(owner_uid, -1) in the index and
  // in every lookup); a session by (owner, id). The v1 table's UNIQUE(app, instance, service)
  // can only go with the table: rebuilt, every row, id and the AUTOINCREMENT sequence kept.
  (db) => {
    const seq = db
      .query<{ seq: number }, []>("SELECT seq FROM sqlite_sequence WHERE name = 'allocations'")
      .get()?.seq;
    db.exec(`CREATE TABLE allocations_v7 (
       id               INTEGER PRIMARY KEY AUTOINCREMENT,
       app              TEXT    NOT NULL,
       instance         TEXT    NOT NULL,
       service          TEXT    NOT NULL,
       port             INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
       created_at       TEXT    NOT NULL,
       checkout         TEXT,
       last_seen        TEXT,
       lease_pid        INTEGER CHECK (lease_pid > 0),
       lease_started_at TEXT,
       block_id         INTEGER,
       name             TEXT,
       http             INTEGER NOT NULL DEFAULT 0 CHECK (http IN (0, 1)),
       lease_session    TEXT,
       owner_uid        INTEGER CHECK (owner_uid >= 0),
       UNIQUE (port)
     );
     INSERT INTO allocations_v7 (id, app, instance, service, port, created_at, checkout,
       last_seen, lease_pid, lease_started_at, block_id, name, http, lease_session, owner_uid)
     SELECT id, app, instance, service, port, created_at, checkout, last_seen, lease_pid,
       lease_started_at, block_id, name, http, lease_session, owner_uid FROM allocations;
     DROP TABLE allocations;
     ALTER TABLE allocations_v7 RENAME TO allocations;
     CREATE UNIQUE INDEX allocations_service
       ON allocations (ifnull(owner_uid, -1), app, instance, service);
     CREATE UNIQUE INDEX allocations_name ON allocations (name);
     CREATE INDEX allocations_lease ON allocations (lease_pid) WHERE lease_pid IS NOT NULL;
     CREATE INDEX allocations_block ON allocations (block_id) WHERE block_id IS NOT NULL;
     CREATE INDEX allocations_session ON allocations (lease_session)
       WHERE lease_session IS NOT NULL;
     CREATE TABLE sessions_v7 (
       id           TEXT    NOT NULL,
       owner_uid    INTEGER CHECK (owner_uid >= 0),
       started_at   TEXT    NOT NULL,
       heartbeat_at TEXT,
       ttl_seconds  INTEGER CHECK (ttl_seconds > 0)
     );
     INSERT INTO sessions_v7 (id, owner_uid, started_at, heartbeat_at, ttl_seconds)
       SELECT DISTINCT s.id, a.owner_uid, s.started_at, s.heartbeat_at, s.ttl_seconds
       FROM sessions s LEFT JOIN allocations a ON a.lease_session = s.id;
     DROP TABLE sessions;
     ALTER TABLE sessions_v7 RENAME TO sessions;
     CREATE UNIQUE INDEX sessions_owner_id ON sessions (ifnull(owner_uid, -1), id);`);
    // Ids are never handed out twice, even those of rows released before the upgrade.
    if (seq !== undefined) {
      db.run("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'allocations'", [seq]);
    }
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function schemaVersion(db: Database): number {
  return db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
}

/** Throws, changing nothing, when the file was written by a newer release. */
export function checkVersion(db: Database): number {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new PortError(
      "storage",
      `database schema version ${current} is newer than this port-server understands (${SCHEMA_VERSION}); upgrade port-server`,
    );
  }
  return current;
}

/** Schema 0 with tables, none of them ours: some other program's SQLite file, refused. */
export function checkOurs(db: Database): void {
  if (schemaVersion(db) !== 0) return;
  const tables = db
    .query<{ name: string }, []>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((t) => t.name);
  if (tables.length > 0 && !tables.includes("allocations")) {
    throw new PortError(
      "storage",
      `${db.filename} is not a port-server database (it has tables ${tables.join(", ")}); refusing to touch it`,
    );
  }
}

/** Applies every missing migration and the new user_version in one write transaction. */
export function migrate(db: Database): void {
  db.transaction(() => {
    const current = checkVersion(db);
    for (let v = current; v < SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v] as Migration;
      if (typeof step === "string") db.exec(step);
      else step(db);
    }
    if (current < SCHEMA_VERSION) db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

// --- internal ---

/** The rows of an older schema get the names they would have had, oldest first. */
function nameExistingRows(db: Database): void {
  type Row = {
    id: number;
    app: string;
    instance: string;
    service: string;
    checkout: string | null;
  };
  const rows = db
    .query<Row, []>("SELECT id, app, instance, service, checkout FROM allocations ORDER BY id")
    .all();
  const taken = new Set<string>();
  const set = db.query("UPDATE allocations SET name = ? WHERE id = ?");
  for (const r of rows) {
    for (const name of nameCandidates(r, !isLinkedWorktree(r.checkout))) {
      if (taken.has(name)) continue;
      taken.add(name);
      set.run(name, r.id);
      break;
    }
  }
}
