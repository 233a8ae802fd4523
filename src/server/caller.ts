// Who sent a request, asked of the kernel once, where the connection was accepted (#28). Over
// TCP: the owner of the client's socket (sock_diag, by the client's address and port from
// Bun.serve). Over the Unix socket (unix.ts): SO_PEERCRED, taken when that connection was
// accepted; it reaches Bun.serve through our own loopback connection, which the kernel says
// is ours, so the uid recorded for it is used. Never a header or a body field.
import { readdirSync, readlinkSync } from "node:fs";
import type { Peer, PeerReader, TcpPeer } from "../core/peercred.ts";

/** Who is behind a request, or undefined when the kernel cannot say. */
export type Identify = (req: Request, env: unknown) => Peer | undefined;

export interface KernelIdentifyOptions {
  reader: PeerReader | undefined;
  /** Our listening address and port. */
  address: string;
  port: () => number;
  daemonUid: number;
  /** The Unix socket's connections into us: our local port → the peer (unix.ts). */
  proxied: ReadonlyMap<number, Peer>;
}

interface BunServer {
  requestIP(req: Request): { address: string; port: number } | null;
}

export function kernelIdentify(opts: KernelIdentifyOptions): Identify {
  const { reader, daemonUid, proxied } = opts;
  const connections = reader?.tcpSocket ? new Connections(reader) : undefined;
  return (req, env) => {
    const ip = (env as BunServer | undefined)?.requestIP?.(req);
    if (!ip) return undefined;
    // Where the kernel keeps no such table (macOS), TCP counts as the daemon's own user; the
    // Unix socket is the way to be told apart there (docs/shared-hosts.md).
    const uid = connections
      ? connections.uid({
          address: ip.address,
          port: ip.port,
          serverAddress: opts.address,
          serverPort: opts.port(),
        })
      : daemonUid;
    if (uid === undefined) return undefined;
    // Only a socket the daemon's user owns can be one of our proxy's connections.
    if (uid === daemonUid) return proxied.get(ip.port) ?? { uid };
    return { uid };
  };
}

/** Whether a request came in through our Unix socket: its Host need not name our TCP port. */
export function fromSocket(proxied: ReadonlyMap<number, Peer>) {
  return (req: Request, env: unknown): boolean => {
    const ip = (env as BunServer | undefined)?.requestIP?.(req);
    // While our proxy's connection lives, no other socket can have its 4-tuple.
    return ip ? proxied.has(ip.port) : false;
  };
}

/**
 * The uid of each keep-alive connection, asked of the kernel once per connection rather than
 * once per request (a lookup is ~4 µs, a third of a GET). Sound because a connection is known
 * by our own end of it: the fd Bun.serve holds for it, and that socket's inode. While that
 * socket is open, no other connection can have its 4-tuple, so a request from that client
 * address and port came through it; an fstat per request (~0.3 µs) says whether it still is.
 * A client port seen once is not remembered (a one-shot portctl pays one lookup, no more); from
 * its second request on, our end is found (a second lookup, its inode, and the fd in
 * /proc/self/fd that holds that inode).
 */
export class Connections {
  readonly #reader: PeerReader;
  readonly #known = new Map<string, { uid: number; fd: number; inode: number }>();
  readonly #seen = new Set<string>();
  readonly #socketFds: () => Map<number, number>;
  #fds = new Map<number, number>();

  constructor(reader: PeerReader, fds: () => Map<number, number> = socketFds) {
    this.#reader = reader;
    this.#socketFds = fds;
  }

  uid(peer: TcpPeer): number | undefined {
    const key = `${peer.address}:${peer.port}`;
    const known = this.#known.get(key);
    if (known && this.#reader.fdInode?.(known.fd) === known.inode) return known.uid;
    if (known) this.#known.delete(key);
    const client = this.#reader.tcpSocket?.(peer);
    if (!client) return undefined;
    if (this.#seen.has(key)) {
      this.#seen.delete(key);
      this.#remember(key, peer, client.uid);
    } else {
      if (this.#seen.size >= MAX_REMEMBERED) this.#seen.clear();
      this.#seen.add(key);
    }
    return client.uid;
  }

  #remember(key: string, peer: TcpPeer, uid: number): void {
    // Our end: the socket whose source is us and whose destination is the client.
    const ours = this.#reader.tcpSocket?.({
      address: peer.serverAddress,
      port: peer.serverPort,
      serverAddress: peer.address,
      serverPort: peer.port,
    });
    if (!ours) return;
    let fd = this.#fds.get(ours.inode);
    if (fd === undefined) {
      this.#fds = this.#socketFds();
      fd = this.#fds.get(ours.inode);
    }
    if (fd === undefined || this.#reader.fdInode?.(fd) !== ours.inode) return;
    if (this.#known.size >= MAX_REMEMBERED) this.#known.clear();
    this.#known.set(key, { uid, fd, inode: ours.inode });
  }
}

// --- internal ---

/** Plenty for keep-alive clients; a flood of one-shot ports only empties the maps. */
const MAX_REMEMBERED = 4096;

/** Our process's sockets: inode → fd, from /proc/self/fd. */
function socketFds(): Map<number, number> {
  const out = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${name}`));
      if (m) out.set(Number(m[1]), Number(name));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
