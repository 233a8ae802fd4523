// The connection to an allocation's port, on loopback only: 127.0.0.1 first, then ::1 (a dev
// server that listens on `localhost` may have only the IPv6 one). What the client sends before
// the connection is up waits in the sink, so a refused first address loses nothing. Bun's own
// sockets (Bun.connect), not node:net: each read arrives as one buffer of up to 512 KiB and each
// write is one send(2), with no stream machinery between (docs/names.md has the figures).
import type { Socket } from "bun";
import { Sink } from "./sink.ts";
import { fdOf } from "./splice.ts";

export interface UpstreamEvents {
  /** Bytes from the service; return false to pause it until `resume()`. */
  data(chunk: Buffer): boolean;
  /** Everything written has gone out: the client may be read again. */
  drain(): void;
  /** The service ended its side. */
  end(): void;
  /** Neither loopback address took the connection. */
  failed(): void;
  /** The connection is gone (after any of the above, or an error); called once. */
  closed(): void;
}

/** Bytes queued while connecting above which the client is paused. */
const QUEUE_LIMIT = 1024 * 1024;
const HOSTS = ["127.0.0.1", "::1"] as const;
/** Which loopback address each port answered on last, tried first next time. */
const lastHost = new Map<number, number>();

/** One connection attempt: the socket's `data`. */
interface Attempt {
  upstream: Upstream;
  index: number;
  next: number | null;
}
type UpSocket = Socket<Attempt>;

export class Upstream {
  readonly #port: number;
  readonly #on: UpstreamEvents;
  readonly #sink = new Sink();
  #socket: UpSocket | null = null;
  #done = false;
  #closed = false;

  constructor(port: number, on: UpstreamEvents) {
    this.#port = port;
    this.#on = on;
    const first = lastHost.get(port) ?? 0;
    this.#try(first, first === 0 ? 1 : 0);
  }

  /** Sends (or queues) bytes; false when the client should pause until `drain`. */
  write(bytes: Buffer): boolean {
    if (this.#done) return true;
    const sent = this.#sink.write(bytes);
    return sent || (this.#socket === null && this.#sink.queued < QUEUE_LIMIT);
  }

  end(): void {
    this.#sink.end();
  }

  /** The connection's file descriptor while it is open (for splice.ts), else -1. */
  get fd(): number {
    return this.#done ? -1 : fdOf(this.#socket);
  }

  /** Nothing is waiting to go to the service: bytes may be spliced to it directly. */
  get clear(): boolean {
    return this.#socket !== null && this.#sink.queued === 0;
  }

  pause(): void {
    this.#socket?.pause();
  }

  resume(): void {
    this.#socket?.resume();
  }

  destroy(): void {
    if (this.#done) return;
    this.#done = true;
    this.#socket?.terminate();
    this.#close();
  }

  // --- internal ---

  #try(index: number, next: number | null): void {
    const attempt: Attempt = { upstream: this, index, next };
    Bun.connect<Attempt>({
      hostname: HOSTS[index] as string,
      port: this.#port,
      allowHalfOpen: true,
      data: attempt,
      socket: HANDLERS,
    }).catch(() => undefined); // connectError below says it
  }

  #opened(socket: UpSocket, index: number): void {
    if (this.#done) return void socket.terminate();
    socket.setNoDelay(true);
    this.#socket = socket;
    lastHost.set(this.#port, index);
    this.#sink.attach(socket as Socket<unknown>);
    this.#on.drain();
  }

  #refused(next: number | null): void {
    if (this.#done) return;
    if (next !== null) {
      this.#try(next, null);
      return;
    }
    this.#done = true;
    this.#on.failed();
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#on.closed();
  }

  /** Bun's socket events, shared by every upstream socket (`socket.data` is its Upstream). */
  static onOpen(socket: UpSocket): void {
    socket.data.upstream.#opened(socket, socket.data.index);
  }

  static onConnectError(socket: UpSocket): void {
    socket.data.upstream.#refused(socket.data.next);
  }

  static onData(socket: UpSocket, chunk: Buffer): void {
    const up = socket.data.upstream;
    // A bug here must cost this connection, never the daemon.
    try {
      if (!up.#done && !up.#on.data(chunk)) socket.pause();
    } catch (err) {
      console.error(`port-server: proxy connection failed: ${(err as Error).message}`);
      up.destroy();
    }
  }

  static onDrain(socket: UpSocket): void {
    const up = socket.data.upstream;
    if (up.#sink.flush() && !up.#done) up.#on.drain();
  }

  static onEnd(socket: UpSocket): void {
    const up = socket.data.upstream;
    if (!up.#done) up.#on.end();
  }

  static onClose(socket: UpSocket): void {
    const up = socket.data.upstream;
    // Only the connection in use: a refused first address is not the end.
    if (up.#socket !== socket) return;
    up.#done = true;
    up.#close();
  }
}

const HANDLERS = {
  open: Upstream.onOpen,
  connectError: Upstream.onConnectError,
  data: Upstream.onData,
  drain: Upstream.onDrain,
  end: Upstream.onEnd,
  close: Upstream.onClose,
  error: () => undefined,
};
