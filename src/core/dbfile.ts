// The database file itself: created 0600 when missing, refused when it is not SQLite, and the
// one wording of "the database failed".
import { closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { PortError } from "./errors.ts";

/** Creates a missing database file with mode 0600; refuses an existing file that is not SQLite. */
export function prepareFile(path: string): void {
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

export function asStorageError(err: unknown, path?: string): PortError {
  if (err instanceof PortError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PortError(
    "storage",
    path ? `cannot open database ${path}: ${message}` : `database error: ${message}`,
  );
}

// --- internal ---

const SQLITE_HEADER = "SQLite format 3\0";
