// Who is at the other end of a connection, from the kernel. Over TCP on loopback: the owner
// uid of the client's own socket, found by one exact netlink sock_diag lookup of its 4-tuple
// (the kernel's hash lookup, no dump). Over a Unix socket: SO_PEERCRED on the accepted fd.
// Never from anything the client sends.
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

export interface TcpPeer {
  /** The client's address and port (its socket's local end). */
  address: string;
  port: number;
  /** Our listening address and port (the client's socket's remote end). */
  serverAddress: string;
  serverPort: number;
}

/** Who is at the other end: a uid, and for a Unix socket the process (in our pid namespace). */
export interface Peer {
  uid: number;
  pid?: number;
}

export interface PeerReader {
  /**
   * The uid owning the client's socket, or undefined when the kernel cannot say (the socket is
   * gone, has no owner any more, or is not on this host). Absent where the kernel keeps no
   * such table (macOS): TCP then counts as the daemon's own user (server/caller.ts).
   */
  tcpUid?(peer: TcpPeer): number | undefined;
  /** The same look, with the socket's inode (the server's own end is looked up this way too). */
  tcpSocket?(peer: TcpPeer): { uid: number; inode: number } | undefined;
  /** The inode of the socket open on one of our own fds (fstat); undefined when it is none. */
  fdInode?(fd: number): number | undefined;
  /** SO_PEERCRED of a connected Unix socket: the process that connected, and its uid. */
  unixPeer(fd: number): Peer | undefined;
}

/** Opens the netlink socket once. Undefined where there is none (not Linux, no libc). */
export function openPeerReader(): PeerReader | undefined {
  if (process.platform === "darwin") return macReader();
  if (process.platform !== "linux") return undefined;
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch {
    return undefined;
  }
  const fd = libc.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return undefined;
  return new Reader(libc, fd);
}

// --- internal ---

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** States where the socket is still a full socket of a process (not TIME_WAIT, not closing). */
const LIVE_STATES = new Set([
  1 /* ESTABLISHED */, 4 /* FIN_WAIT1 */, 5 /* FIN_WAIT2 */, 8 /* CLOSE_WAIT */,
]);
/** inet_diag_msg after its nlmsghdr: state, id.sport, id.dport, uid, inode. */
const R_STATE = 16 + 1;
const R_SPORT = 16 + 4;
const R_DPORT = 16 + 6;
const R_UID = 16 + 64;
const R_INODE = 16 + 68;
const BUFFER_BYTES = 8192;
/** A lookup's reply arrives within send(); a stale one (an earlier, abandoned ask) is skipped. */
const MAX_READS = 8;

type Libc = ReturnType<typeof loadLibc>;

function loadLibc() {
  const i32 = FFIType.i32;
  return openLibc({
    socket: { args: [i32, i32, i32], returns: i32 },
    send: { args: [i32, FFIType.ptr, FFIType.u64, i32], returns: FFIType.i64 },
    recv: { args: [i32, FFIType.ptr, FFIType.u64, i32], returns: FFIType.i64 },
    getsockopt: { args: [i32, i32, i32, FFIType.ptr, FFIType.ptr], returns: i32 },
  });
}

/** fstat(2), exported by glibc since 2.33 and by musl; without it, no connection is remembered. */
function loadFstat(): ((fd: number, buf: Uint8Array) => number) | undefined {
  try {
    return openLibc({ fstat: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } }).fstat;
  } catch {
    return undefined;
  }
}

class Reader implements PeerReader {
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #req: DataView;
  readonly #request: Uint8Array;
  readonly #buffer = new Uint8Array(BUFFER_BYTES);
  readonly #reply = new DataView(this.#buffer.buffer);
  readonly #cred = new Int32Array(3);
  readonly #credLen = new Uint32Array([12]);
  #seq = 0;
  readonly #fstat = loadFstat();
  readonly #stat = new Uint8Array(256);
  readonly #statView = new DataView(this.#stat.buffer);

  constructor(libc: Libc, fd: number) {
    this.#libc = libc;
    this.#fd = fd;
    // One socket, not a dump, in any state.
    const r = tcpDiagRequest(NLM_F_REQUEST, 0xffffffff);
    r.setUint32(64, 0xffffffff, true); // idiag_cookie: INET_DIAG_NOCOOKIE
    r.setUint32(68, 0xffffffff, true);
    this.#req = r;
    this.#request = new Uint8Array(r.buffer);
  }

  tcpUid(peer: TcpPeer): number | undefined {
    return this.tcpSocket(peer)?.uid;
  }

  fdInode(fd: number): number | undefined {
    if (!this.#fstat) return undefined;
    if (this.#fstat(fd, this.#stat) !== 0) return undefined;
    // struct stat: st_dev (8 bytes), then st_ino (8), on x86_64 and aarch64, glibc and musl.
    return Number(this.#statView.getBigUint64(8, true));
  }

  tcpSocket(peer: TcpPeer): { uid: number; inode: number } | undefined {
    const family = peer.address.includes(":") ? AF_INET6 : AF_INET;
    const r = this.#req;
    const seq = ++this.#seq >>> 0;
    r.setUint32(8, seq, true);
    r.setUint8(16, family);
    // The client's socket: its source is the client, its destination is us.
    r.setUint16(24, peer.port, false);
    r.setUint16(26, peer.serverPort, false);
    if (!writeAddress(r, 28, peer.address, family)) return undefined;
    if (!writeAddress(r, 44, peer.serverAddress, family)) return undefined;
    if (Number(this.#libc.send(this.#fd, this.#request, REQUEST_BYTES, 0)) !== REQUEST_BYTES) {
      return undefined;
    }
    for (let reads = 0; reads < MAX_READS; reads++) {
      const n = Number(this.#libc.recv(this.#fd, this.#buffer, BUFFER_BYTES, MSG_DONTWAIT));
      if (n < 16) return undefined;
      const v = this.#reply;
      if (v.getUint32(8, true) !== seq) continue;
      if (v.getUint16(4, true) === NLMSG_ERROR || n < R_INODE + 4) return undefined;
      // The kernel found the socket by its 4-tuple; check it is that one and a live socket
      // of a process: a TIME_WAIT or orphaned socket reports uid 0 and inode 0, never root.
      if (v.getUint16(R_SPORT, false) !== peer.port) return undefined;
      if (v.getUint16(R_DPORT, false) !== peer.serverPort) return undefined;
      if (!LIVE_STATES.has(v.getUint8(R_STATE))) return undefined;
      const inode = v.getUint32(R_INODE, true);
      if (inode === 0) return undefined;
      return { uid: v.getUint32(R_UID, true), inode };
    }
    return undefined;
  }

  unixPeer(fd: number): Peer | undefined {
    this.#credLen[0] = 12;
    const rc = this.#libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, this.#cred, this.#credLen);
    if (rc !== 0 || this.#credLen[0] !== 12) return undefined;
    // struct ucred { pid_t pid; uid_t uid; gid_t gid; }; the pid is 0 from another pid namespace.
    const pid = this.#cred[0] as number;
    return { uid: (this.#cred[1] as number) >>> 0, ...(pid > 0 ? { pid } : {}) };
  }
}

/** macOS: getpeereid(3) on the Unix socket; no table of TCP sockets' owners. */
function macReader(): PeerReader | undefined {
  let libc: { getpeereid: (fd: number, uid: Uint32Array, gid: Uint32Array) => number };
  try {
    libc = openLibc({
      getpeereid: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    });
  } catch {
    return undefined;
  }
  const uid = new Uint32Array(1);
  const gid = new Uint32Array(1);
  return {
    unixPeer: (fd) => (libc.getpeereid(fd, uid, gid) === 0 ? { uid: uid[0] as number } : undefined),
  };
}

/** An IPv4 or IPv6 text address into the 16 bytes at `off` (network order). */
function writeAddress(v: DataView, off: number, text: string, family: number): boolean {
  for (let i = 0; i < 16; i++) v.setUint8(off + i, 0);
  if (family === AF_INET) {
    const parts = text.split(".");
    if (parts.length !== 4) return false;
    for (let i = 0; i < 4; i++) {
      const n = Number(parts[i]);
      if (!Number.isInteger(n) || n < 0 || n > 255) return false;
      v.setUint8(off + i, n);
    }
    return true;
  }
  return writeIpv6(v, off, text);
}

function writeIpv6(v: DataView, off: number, text: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) {
    v.setUint16(off + 10, 0xffff, false);
    return writeAddress(v, off + 12, mapped[1] as string, AF_INET);
  }
  const [head = "", tail] = text.split("::");
  const a = head ? head.split(":") : [];
  const b = tail ? tail.split(":") : [];
  if (tail === undefined ? a.length !== 8 : a.length + b.length > 7) return false;
  const groups = [...a, ...Array(8 - a.length - b.length).fill("0"), ...b];
  for (let i = 0; i < 8; i++) {
    const n = Number.parseInt(groups[i] as string, 16);
    if (!/^[0-9a-f]{1,4}$/i.test(groups[i] as string)) return false;
    v.setUint16(off + i * 2, n, false);
  }
  return true;
}
