// The machine's listening TCP sockets, straight from the Linux kernel: one netlink `sock_diag`
// dump per address family (what `ss -ltn` does), through libc via bun:ffi. The kernel walks only
// its table of listeners, so the answer costs tens of microseconds however many connections and
// TIME_WAIT sockets the machine has, unlike `/proc/net/tcp`, which lists every one of them.
import { FFIType } from "bun:ffi";
import { openLibc } from "./libc.ts";
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  MSG_DONTWAIT,
  NETLINK_SOCK_DIAG,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  REQUEST_BYTES,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  tcpDiagRequest,
} from "./netlink.ts";

export interface KernelListener {
  port: number;
  /** The socket's inode, to find the owning process through `/proc/<pid>/fd`. */
  inode: number;
}

export interface ListenerReader {
  /** Every TCP socket in LISTEN state, IPv4 and IPv6, as of this call. */
  read(): KernelListener[];
}

/**
 * Opens the netlink socket once and checks that a dump works. Returns undefined where it cannot
 * (not Linux, no libc to load, sock_diag missing from the kernel), so callers fall back.
 */
export function openSockDiag(): ListenerReader | undefined {
  if (process.platform !== "linux") return undefined;
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch {
    return undefined;
  }
  const fd = libc.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return undefined;
  const reader = new SockDiag(libc, fd);
  try {
    reader.read();
  } catch {
    libc.close(fd);
    return undefined;
  }
  return reader;
}

// --- internal ---

const NLM_F_DUMP = 0x300;
const NLMSG_DONE = 3;
const TCP_LISTEN = 10;
/** Where inet_diag_msg's fields sit in a reply message (after its 16-byte nlmsghdr). */
const REPLY_SPORT = 16 + 4;
const REPLY_INODE = 16 + 68;
/** The kernel fills at most 32 KiB per read of a dump; twice that never truncates. */
const BUFFER_BYTES = 64 * 1024;
/** A dump that never says DONE would be a kernel bug; never loop on it forever. */
const MAX_READS = 4096;

type Libc = ReturnType<typeof loadLibc>;

function loadLibc() {
  const i32 = FFIType.i32;
  return openLibc({
    socket: { args: [i32, i32, i32], returns: i32 },
    close: { args: [i32], returns: i32 },
    send: { args: [i32, FFIType.ptr, FFIType.u64, i32], returns: FFIType.i64 },
    recv: { args: [i32, FFIType.ptr, FFIType.u64, i32], returns: FFIType.i64 },
  });
}

class SockDiag implements ListenerReader {
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #req: DataView;
  readonly #request: Uint8Array;
  readonly #buffer = new Uint8Array(BUFFER_BYTES);
  readonly #reply = new DataView(this.#buffer.buffer);
  #seq = 0;

  constructor(libc: Libc, fd: number) {
    this.#libc = libc;
    this.#fd = fd;
    // A dump of the listeners only.
    this.#req = tcpDiagRequest(NLM_F_REQUEST | NLM_F_DUMP, 1 << TCP_LISTEN);
    this.#request = new Uint8Array(this.#req.buffer);
  }

  read(): KernelListener[] {
    const out: KernelListener[] = [];
    this.#dump(AF_INET, out);
    this.#dump(AF_INET6, out);
    return out;
  }

  #dump(family: number, out: KernelListener[]): void {
    const seq = ++this.#seq >>> 0;
    this.#req.setUint8(16, family); // sdiag_family
    this.#req.setUint32(8, seq, true); // nlmsg_seq
    if (Number(this.#libc.send(this.#fd, this.#request, REQUEST_BYTES, 0)) !== REQUEST_BYTES) {
      throw new Error("sock_diag: send failed");
    }
    // The kernel answers within send() and recv(): the data is there, never wait for it.
    for (let reads = 0; reads < MAX_READS; reads++) {
      const n = Number(this.#libc.recv(this.#fd, this.#buffer, BUFFER_BYTES, MSG_DONTWAIT));
      if (n <= 0) throw new Error("sock_diag: recv failed");
      if (this.#parse(n, seq, out)) return;
    }
    throw new Error("sock_diag: dump did not end");
  }

  /** Appends the listeners in one read; true once the dump's DONE message is seen. */
  #parse(n: number, seq: number, out: KernelListener[]): boolean {
    const v = this.#reply;
    for (let off = 0; off + 16 <= n; ) {
      const len = v.getUint32(off, true);
      const type = v.getUint16(off + 4, true);
      if (len < 16 || off + len > n) throw new Error("sock_diag: malformed reply");
      // A late answer to an earlier, abandoned request is skipped.
      if (v.getUint32(off + 8, true) === seq) {
        if (type === NLMSG_DONE) return true;
        if (type === NLMSG_ERROR) throw new Error(`sock_diag: error ${v.getInt32(off + 16, true)}`);
        if (len >= REPLY_INODE + 4) {
          const port = v.getUint16(off + REPLY_SPORT, false);
          if (port > 0) out.push({ port, inode: v.getUint32(off + REPLY_INODE, true) });
        }
      }
      off += (len + 3) & ~3;
    }
    return false;
  }
}
