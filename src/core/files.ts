// Files where someone else might have planted something: never followed through a symlink,
// never written under a predictable temp name, and a state folder used only if it is ours alone.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileReason, PortError } from "./errors.ts";

/** Like existsSync, but true for a dangling symlink too (lstat, never followed). */
export function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A folder at `path`, through links; false when missing or unreadable. */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Links resolved (realpath), so one place reached two ways is one path; else `path` resolved. */
export function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** open(2) that fails with ELOOP instead of following a symlink at `path` itself. */
export function openNoFollow(path: string, flags: number, mode = 0o600): number {
  return openSync(path, flags | constants.O_NOFOLLOW, mode);
}

/** O_WRONLY|O_APPEND|O_CREAT, never through a symlink: for logs. */
export const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;

/**
 * Replaces `path` with `data` all at once: a random name beside it, created O_EXCL|O_NOFOLLOW
 * (a planted link or file there is an error, never followed), given exactly `mode` whatever the
 * umask, then renamed over the target. A reader sees the old text or the new, never half.
 */
export function writeAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomSuffix()}.tmp`);
  const fd = openSync(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The state folder, created 0700 when missing. Refused (one line, nothing written) when another
 * user owns it or its group or others may write it: whoever can write there can plant the
 * database, the log or the PID file that decides which process `portctl stop` signals.
 */
export function ensurePrivateFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PortError(
      "daemon",
      `cannot create the state folder ${dir}: ${fileReason(err, true)}`,
    );
  }
  const problem = stateFolderProblem(dir);
  if (problem) {
    throw new PortError(
      "daemon",
      problem.fix ? `${problem.message}; run: ${problem.fix}` : problem.message,
    );
  }
}

export interface FolderProblem {
  message: string;
  /** A command that fixes it, when there is one. */
  fix?: string;
}

/**
 * Why an existing `dir` must not be used as a state folder (not a folder, another user's, or
 * writable by group or others), or undefined when it may. `portctl doctor` asks the same.
 */
export function stateFolderProblem(
  dir: string,
  uid: number | undefined = process.getuid?.(),
): FolderProblem | undefined {
  const st = statSync(dir);
  if (!st.isDirectory()) return { message: `the state folder ${dir} is not a folder` };
  if (uid !== undefined && st.uid !== uid) {
    return {
      message: `refusing the state folder ${dir}: it belongs to uid ${st.uid}, not to you (uid ${uid})`,
    };
  }
  if (st.mode & 0o022) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
    return {
      message: `refusing the state folder ${dir}: others may write to it (mode ${mode})`,
      fix: `chmod 700 ${dir}`,
    };
  }
  return undefined;
}

/** Makes an existing file ours alone (0600), through an open descriptor that follows no link. */
export function restrictMode(path: string): void {
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.mode & 0o077) fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** "Read it if it is there": the text, or undefined when it cannot be read (missing, a folder). */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

// --- internal ---

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Buffer.from(bytes).toString("hex");
}
