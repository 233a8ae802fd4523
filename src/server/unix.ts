// The daemon's Unix socket (#28): `<state>/port-server.sock`, or `--socket PATH` (a host-wide
// path for a system service, or one mounted into containers). Bun.serve on a Unix socket gives
// no way to see the peer, so we accept the connections ourselves (Bun.listen exposes each one's
// fd), read SO_PEERCRED from the kernel, and splice the bytes into our own HTTP listener over
// loopback; `proxied` maps that loopback connection's port to the peer's uid for caller.ts.
import { lstatSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import { DEFAULT_HOST } from "../core/config.ts";
import { PortError } from "../core/errors.ts";
import { stateFolderProblem } from "../core/files.ts";
import type { Peer, PeerReader } from "../core/peercred.ts";

export interface UnixListener {
  path: string;
  /** Our loopback connections for the socket's clients: local port → the peer. */
  proxied: Map<number, Peer>;
  stop(): void;
}

/**
 * Listens on `path`, mode 0666 (the folder decides who reaches it: ours alone, or a system
 * service's). The folder must be ours and not writable by others; a stale socket there is
 * replaced (we hold the state folder's lock), anything else in the way is refused, never
 * followed or removed.
 */
export function listenUnix(
  path: string,
  tcpPort: () => number,
  reader: PeerReader | undefined,
  proxied: Map<number, Peer>,
): UnixListener {
  checkPlace(path);
  const previous = process.umask(0o111);
  let listener: UnixSocketListener<Conn>;
  try {
    listener = Bun.listen<Conn>({
      unix: path,
      socket: handlers(tcpPort, reader, proxied),
    });
  } catch (err) {
    throw new PortError("daemon", `cannot listen on ${path}: ${(err as Error).message}`);
  } finally {
    process.umask(previous);
  }
  const ino = lstatSync(path).ino;
  return {
    path,
    proxied,
    stop() {
      listener.stop(true);
      // Removed only while it is still the socket we made.
      try {
        const st = lstatSync(path);
        if (st.isSocket() && st.ino === ino) rmSync(path);
      } catch {
        // already gone
      }
    },
  };
}

// --- internal ---

interface Conn {
  upstream?: Socket<Up>;
  /** Bytes from the client not yet written upstream (before connect, or under backpressure). */
  pending: Uint8Array[];
  closed: boolean;
}

interface Up {
  client: Socket<Conn>;
  pending: Uint8Array[];
  port?: number;
}

function checkPlace(path: string): void {
  const dir = dirname(path);
  const problem = (() => {
    try {
      return stateFolderProblem(dir);
    } catch {
      return { message: `the folder of ${path} does not exist` };
    }
  })();
  if (problem) throw new PortError("daemon", `cannot use the socket ${path}: ${problem.message}`);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new PortError(
      "daemon",
      `cannot use the socket ${path}: something else is there (not a socket; left alone)`,
    );
  }
  rmSync(path);
}

function handlers(
  tcpPort: () => number,
  reader: PeerReader | undefined,
  proxied: Map<number, Peer>,
) {
  return {
    open(client: Socket<Conn>) {
      client.data = { pending: [], closed: false };
      const peer = reader?.unixPeer((client as unknown as { fd: number }).fd);
      if (peer === undefined) {
        // No credentials, no service: the request could not be attributed.
        client.end();
        return;
      }
      void connectUpstream(client, peer, tcpPort(), proxied);
    },
    data(client: Socket<Conn>, chunk: Uint8Array) {
      const up = client.data.upstream;
      if (up && client.data.pending.length === 0) send(up, client, chunk, client.data.pending);
      else {
        client.data.pending.push(chunk.slice());
        if (client.data.pending.length > 1) client.pause();
      }
    },
    drain(client: Socket<Conn>) {
      const up = client.data.upstream?.data;
      if (up) flush(client, client.data.upstream, up.pending);
    },
    close(client: Socket<Conn>) {
      client.data.closed = true;
      client.data.upstream?.end();
    },
    error(client: Socket<Conn>) {
      client.data.closed = true;
      client.data.upstream?.end();
    },
  } satisfies Parameters<typeof Bun.listen<Conn>>[0]["socket"];
}

async function connectUpstream(
  client: Socket<Conn>,
  peer: Peer,
  port: number,
  proxied: Map<number, Peer>,
): Promise<void> {
  let upstream: Socket<Up>;
  try {
    upstream = await Bun.connect<Up>({
      hostname: DEFAULT_HOST,
      port,
      data: { client, pending: [] },
      socket: {
        open(up) {
          // Recorded before a byte is sent, so the first request already finds it.
          up.data.port = up.localPort;
          proxied.set(up.localPort, peer);
        },
        data(up, chunk) {
          if (up.data.client.data.closed) return;
          if (up.data.pending.length === 0) send(up.data.client, up, chunk, up.data.pending);
          else up.data.pending.push(chunk.slice());
        },
        drain(up) {
          flush(up, up.data.client, up.data.client.data.pending);
        },
        close(up) {
          if (up.data.port !== undefined) proxied.delete(up.data.port);
          up.data.client.end();
        },
        error(up) {
          if (up.data.port !== undefined) proxied.delete(up.data.port);
          up.data.client.end();
        },
      },
    });
  } catch {
    client.end();
    return;
  }
  if (client.data.closed) {
    upstream.end();
    return;
  }
  client.data.upstream = upstream;
  flush(upstream, client, client.data.pending);
}

/**
 * Writes what `to` takes now; the rest waits in `pending` for its drain, and `from` stops
 * reading meanwhile, so a peer that never reads cannot make us buffer without end.
 */
function send<T, F>(to: Socket<T>, from: Socket<F>, chunk: Uint8Array, pending: Uint8Array[]) {
  const n = to.write(chunk);
  if (n < chunk.length) {
    pending.push(chunk.slice(Math.max(n, 0)));
    from.pause();
  }
}

function flush<T, F>(to: Socket<T>, from: Socket<F> | undefined, pending: Uint8Array[]): void {
  while (pending.length > 0) {
    const chunk = pending[0] as Uint8Array;
    const n = to.write(chunk);
    if (n < chunk.length) {
      pending[0] = chunk.slice(Math.max(n, 0));
      return;
    }
    pending.shift();
  }
  from?.resume();
}
