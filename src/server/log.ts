// The daemon's log: one line per event (a stack trace or a multi-line message never spans
// lines), and capped: past LOG_MAX_BYTES the file is moved to `<log>.1` and starts again empty.
// The log is the daemon's stdout/stderr (portctl start opens it); `--log PATH` names it so that
// it can be rotated, which happens only while PATH still is that very file.
import { fstatSync, ftruncateSync, lstatSync, readFileSync } from "node:fs";
import { writeAtomic } from "../core/files.ts";

export interface LogOptions {
  /** The file behind `fd`, to rotate; without it lines are written and never rotated. */
  path?: string;
  /** The descriptor lines are written to (stderr). */
  fd?: number;
  maxBytes: number;
  /** Where a line goes: console.error by default (stderr). */
  write?: (line: string) => void;
}

export type Log = (message: string) => void;

let current: Log = createLog({ maxBytes: Number.POSITIVE_INFINITY });

/** Writes one event to the daemon's log (whatever server/main.ts set up with useLog). */
export function logEvent(message: string): void {
  current(message);
}

/** The log every logEvent goes to; server/main.ts sets it once the flags are known. */
export function useLog(log: Log): void {
  current = log;
}

export function createLog(opts: LogOptions): Log {
  const fd = opts.fd ?? 2;
  const write = opts.write ?? ((line: string) => console.error(line));
  // A log left full by earlier runs is rotated as the daemon starts, not at its first event.
  if (opts.path) rotateIfFull(opts.path, fd, opts.maxBytes);
  return (message) => {
    write(oneLine(message));
    if (opts.path) rotateIfFull(opts.path, fd, opts.maxBytes);
  };
}

/** `message` on one line: line breaks (and the indentation after them) become ` | `. */
export function oneLine(message: string): string {
  return message.trim().replace(/\s*(?:\r\n|[\n\r\u2028\u2029])\s*/g, " | ");
}

/** An unexpected error for the log: its message and where it was thrown, on one line. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  const at = err.stack
    ?.split("\n")
    .find((l) => /^\s+at /.test(l))
    ?.trim();
  return oneLine(`${err.name}: ${err.message}${at ? ` (${at})` : ""}`);
}

// --- internal ---

function rotateIfFull(path: string, fd: number, maxBytes: number): void {
  try {
    const open = fstatSync(fd);
    if (!open.isFile() || open.size <= maxBytes) return;
    const named = lstatSync(path);
    // Only our own log: a path that is now something else (a link, another file) is left alone.
    if (!named.isFile() || named.ino !== open.ino || named.dev !== open.dev) return;
    writeAtomic(`${path}.1`, readFileSync(path), 0o600);
    // O_APPEND: the next line lands at the start of the emptied file.
    ftruncateSync(fd, 0);
  } catch {
    // A log that cannot be rotated is still written; the next line tries again.
  }
}
