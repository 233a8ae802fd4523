// A file no one may replace, root included: `chattr +i` (ext2/3/4, xfs, btrfs). The tests of a
// write that must fail use it where they run as root, since root writes through file modes.
import { spawnSync } from "node:child_process";
import { chmodSync, statSync } from "node:fs";

/**
 * Makes `path` immutable and returns the undo, or undefined where chattr is missing or the file
 * system (tmpfs, overlay) refuses the attribute: the caller skips with one line then.
 */
export function makeImmutable(path: string): (() => void) | undefined {
  if (!Bun.which("chattr")) return undefined;
  if (spawnSync("chattr", ["+i", path]).status !== 0) return undefined;
  return () => {
    spawnSync("chattr", ["-i", path]);
  };
}

/**
 * Makes `path` unwritable for this process and returns the undo: mode 0444/0555 for a user, the
 * immutable attribute for root (undefined where that cannot be had).
 */
export function readOnly(path: string): (() => void) | undefined {
  if (process.getuid?.() === 0) return makeImmutable(path);
  const mode = statSync(path).mode & 0o777;
  chmodSync(path, statSync(path).isDirectory() ? 0o555 : 0o444);
  return () => chmodSync(path, mode);
}
