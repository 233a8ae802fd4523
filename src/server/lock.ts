// One daemon per state folder: an exclusive flock(2) on `port-server.lock`, held for the
// daemon's whole life and released by the kernel however it ends. The file says who holds it
// (`{"pid":N,"address":"127.0.0.1:P"}`), so a second daemon, and portctl, can name it.
import { FFIType } from "bun:ffi";
import { closeSync, constants, ftruncateSync, writeSync } from "node:fs";
import { fileReason, PortError } from "../core/errors.ts";
import { openNoFollow } from "../core/files.ts";
import { openLibc } from "../core/libc.ts";
import { alreadyRunning, type LockHolder, readLockHolder } from "../core/lockfile.ts";

export interface Lock {
  /** false where flock(2) could not be loaded: the listening port is then the only lock. */
  held: boolean;
  /** Records the address the holder listens on, for whoever finds the folder taken. */
  announce(address: string): void;
  release(): void;
}

/** Takes the folder's lock or throws `port-server is already running (pid N) on ADDR`. */
export function acquireLock(path: string): Lock {
  const fd = openLockFile(path);
  const flock = libcFlock();
  if (flock && flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    throw new PortError("daemon", alreadyRunning(readLockHolder(path)));
  }
  const write = (holder: LockHolder) => {
    try {
      ftruncateSync(fd, 0);
      writeSync(fd, `${JSON.stringify(holder)}\n`, 0);
    } catch {
      // opened read-only (a read-only folder): the lock holds, the note about it is skipped
    }
  };
  write({ pid: process.pid });
  return {
    held: flock !== null,
    announce: (address) => write({ pid: process.pid, address }),
    release: () => closeSync(fd),
  };
}

// --- internal ---

/** Read-write, created 0600 if missing; an existing one read-only where the folder is. */
function openLockFile(path: string): number {
  try {
    return openNoFollow(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    try {
      if (code === "EROFS" || code === "EACCES") return openNoFollow(path, constants.O_RDONLY);
    } catch {
      // fall through to the first error, which says why
    }
    throw new PortError(
      "daemon",
      `cannot lock the state folder (${path}): ${fileReason(err, true)}`,
    );
  }
}

const LOCK_EX = 2;
const LOCK_NB = 4;

type Flock = (fd: number, op: number) => number;

/** flock(2) from the C library through bun:ffi; null where no library could be loaded. */
function libcFlock(): Flock | null {
  try {
    const { flock } = openLibc({
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    });
    return (fd, op) => flock(fd, op);
  } catch {
    return null;
  }
}
