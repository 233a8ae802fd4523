// Linux's splice(2): bytes a socket has received moved on to another socket inside the kernel,
// through a pipe, never copied into the daemon (two copies fewer per byte than a read and a
// write, and no buffer left for the collector). The proxy uses it for what a response, a
// request body of known length or a tunnel still has waiting once Bun has handed over one read:
// the rest goes by splice until the socket has nothing more. Where splice is missing (macOS, a
// libc without it) `spliceAvailable` is false and every byte goes the ordinary way.
import { FFIType, ptr, read } from "bun:ffi";
import { openLibc } from "../../core/libc.ts";

export interface Moved {
  /** Bytes that reached the destination socket. */
  moved: number;
  /** Bytes taken from the source but refused by the destination (full): send them the usual way. */
  rest: Buffer | null;
  /** The source has ended (its FIN was read). */
  eof: boolean;
  /** The source or the destination failed (reset, closed): the connection is over. */
  failed: boolean;
}

/** A socket's file descriptor, or -1 once Bun has closed it (never a number reused since). */
export function fdOf(socket: unknown): number {
  const fd = (socket as { fd?: number } | null)?.fd;
  return typeof fd === "number" ? fd : -1;
}

/**
 * Moves what `from` has waiting to `to` (file descriptors of two of Bun's sockets, asked of the
 * sockets just now: never one Bun has closed), at most `max` bytes, stopping when `from` has
 * nothing more, `to` takes no more, or either fails.
 */
export function spliceOn(from: number, to: number, max: number): Moved {
  const s = state as State;
  const out: Moved = { moved: 0, rest: null, eof: false, failed: false };
  while (out.moved < max) {
    const n = Number(
      s.lib.splice(from, null, s.pipeIn, null, Math.min(max - out.moved, PIPE_SIZE), FLAGS),
    );
    if (n === 0) {
      out.eof = true;
      break;
    }
    if (n < 0) {
      if (errno(s) !== EAGAIN) out.failed = true;
      break;
    }
    const m = Number(s.lib.splice(s.pipeOut, null, to, null, n, FLAGS));
    const sent = Math.max(m, 0);
    out.moved += sent;
    if (sent < n) {
      // The destination is full (or gone): what is left in the pipe goes the usual way, so the
      // pipe is empty again for the next connection, and the socket's drain says when.
      if (m < 0 && errno(s) !== EAGAIN) out.failed = true;
      out.rest = drainPipe(s, n - sent);
      break;
    }
  }
  return out;
}

// --- internal ---

interface State {
  lib: ReturnType<typeof load>;
  /** The pipe's write end (spliced into) and read end (spliced out of), both non-blocking. */
  pipeIn: number;
  pipeOut: number;
}

/** SPLICE_F_MOVE | SPLICE_F_NONBLOCK. */
const FLAGS = 1 | 2;
const EAGAIN = 11;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
/** Bytes moved per splice call: the pipe's size, set to 1 MiB (64 KiB where refused). */
let PIPE_SIZE = 1024 * 1024;
let state: State | null | undefined;

function load() {
  return openLibc({
    splice: {
      args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.u32],
      returns: FFIType.i64,
    },
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

/** One pipe for the whole daemon: JavaScript runs one thing at a time and leaves it empty. */
function open(): State | null {
  if (state !== undefined) return state;
  state = null;
  if (process.platform !== "linux") return null;
  const lib = load();
  const fds = new Int32Array(2);
  if (lib.pipe2(ptr(fds), O_NONBLOCK | O_CLOEXEC) !== 0) return null;
  if (lib.fcntl(fds[1] as number, F_SETPIPE_SZ, PIPE_SIZE) < 0) PIPE_SIZE = 64 * 1024;
  state = { lib, pipeOut: fds[0] as number, pipeIn: fds[1] as number };
  return state;
}

function errno(s: State): number {
  const at = s.lib.__errno_location();
  return at === null ? 0 : read.i32(at, 0);
}

/** Reads `bytes` back out of the pipe (they are in it: a pipe never refuses its reader). */
function drainPipe(s: State, bytes: number): Buffer {
  const buf = Buffer.allocUnsafe(bytes);
  let got = 0;
  while (got < bytes) {
    const r = Number(s.lib.read(s.pipeOut, ptr(buf, got), bytes - got));
    if (r <= 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/** True where splice(2) and a pipe for it are available (asked once, at load, after the above). */
export const spliceAvailable: boolean = (() => {
  try {
    return open() !== null;
  } catch {
    return false;
  }
})();
