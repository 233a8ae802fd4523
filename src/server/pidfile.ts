// The daemon's PID file: written once the port is ours, atomically and never through a planted
// link, and removed only while it still names us.
import { readFileSync, rmSync } from "node:fs";
import { writeAtomic } from "../core/files.ts";

/** A random O_EXCL temp name beside it, then a rename: a reader never sees a partial PID. */
export function writePidFile(path: string): void {
  writeAtomic(path, `${process.pid}\n`, 0o600);
}

/** Removes the PID file only if it is still ours (a later daemon may have replaced it). */
export function removePidFile(path: string): void {
  try {
    if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path);
  } catch {
    // already gone
  }
}
