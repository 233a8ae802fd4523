// The database file before SQLite opens it: never reached through a symlink (SQLite would
// follow one, and a dangling `ports.db` link used to create a 0644 database elsewhere), created
// 0600, kept 0600 with its -wal and -shm, and refused unless it is empty or SQLite; and the one
// wording of "the database failed".
import { Database } from "bun:sqlite";
import { closeSync, constants, lstatSync, readSync } from "node:fs";
import { BUSY_TIMEOUT_MS } from "./config.ts";
import { PortError } from "./errors.ts";
import { openNoFollow, pathExists, restrictMode } from "./files.ts";
import { checkOurs, checkVersion, migrate } from "./migrations.ts";

/**
 * Opens (creating if needed, mode 0600) the database at `path`, or `:memory:`: refused when it
 * is newer than us or another program's, else migrated, in WAL mode with `synchronous = FULL`.
 * Throws a one-line `storage` error.
 */
export function openDatabase(path: string): Database {
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
    return db;
  } catch (err) {
    db?.close(false);
    throw asStorageError(err, `cannot open database ${path}`);
  }
}

/** Ready to open: created when missing, or checked. Throws a one-line `storage` error. */
function prepareFile(path: string): void {
  for (const file of [path, ...SIDE_FILES.map((suffix) => path + suffix)]) {
    if (isSymlink(file)) {
      throw new PortError("storage", `${file} is a symbolic link; refusing to follow it`);
    }
  }
  createIfMissing(path);
  if (!hasSqliteHeaderOrIsEmpty(path)) {
    throw new PortError("storage", `${path} is not an SQLite database; refusing to touch it`);
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) restrictMode(file);
}

/** A database failure, whatever raised it, as the one `storage` error: `<context>: <message>`. */
export function asStorageError(err: unknown, context = "database error"): PortError {
  if (err instanceof PortError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PortError("storage", `${context}: ${message}`);
}

// --- internal ---

const SIDE_FILES = ["-wal", "-shm", "-journal"];
const SQLITE_HEADER = "SQLite format 3\0";

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function createIfMissing(path: string): void {
  if (pathExists(path)) return;
  try {
    closeSync(openNoFollow(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL));
  } catch (err) {
    // Already there (or another daemon created it a moment ago): checked below.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

function hasSqliteHeaderOrIsEmpty(path: string): boolean {
  const header = Buffer.alloc(16);
  const fd = openNoFollow(path, constants.O_RDONLY);
  try {
    const n = readSync(fd, header, 0, 16, 0);
    return n === 0 || header.toString("latin1") === SQLITE_HEADER;
  } finally {
    closeSync(fd);
  }
}
