// Small assertions the core tests share: the PortError a call throws, and a database file's
// schema version read with a connection of our own.
import { Database } from "bun:sqlite";
import { PortError } from "../../src/core/errors.ts";

/** Runs `fn`, expecting a PortError; returns it so the test can check code, message, holder. */
export function portError(fn: () => unknown): PortError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PortError) return err;
    throw err;
  }
  throw new Error("expected a PortError");
}

/** `PRAGMA user_version` of a file, read-only. */
export function userVersion(path: string): number | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version;
  } finally {
    db.close();
  }
}
