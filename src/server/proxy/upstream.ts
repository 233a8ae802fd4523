// The connection to an allocation's port, on loopback only: 127.0.0.1 first, then ::1 (a dev
// server that listens on `localhost` may have only the IPv6 one). What the client sends before
// the connection is up waits in a queue, so a refused first address loses nothing.
import { connect, type Socket } from "node:net";

export interface UpstreamEvents {
  /** Bytes from the service; return false to pause it until `resume()`. */
  data(chunk: Buffer): boolean;
  /** The queue has room again: the client may be read again. */
  drain(): void;
  /** The service ended its side. */
  end(): void;
  /** Neither loopback address took the connection. */
  failed(): void;
  /** The connection is gone (after any of the above, or an error). */
  closed(): void;
}

/** Bytes queued while connecting above which the client is paused. */
const QUEUE_LIMIT = 1024 * 1024;
const HOSTS = ["127.0.0.1", "::1"] as const;
/** Which loopback address each port answered on last, tried first next time. */
const lastHost = new Map<number, number>();

export class Upstream {
  readonly #port: number;
  readonly #on: UpstreamEvents;
  #socket: Socket | null = null;
  #connected = false;
  #queue: Buffer[] = [];
  #queued = 0;
  #ending = false;
  #done = false;

  constructor(port: number, on: UpstreamEvents) {
    this.#port = port;
    this.#on = on;
    const first = lastHost.get(port) ?? 0;
    this.#try(first, first === 0 ? 1 : 0);
  }

  /** Sends (or queues) bytes; false when the client should pause until `drain`. */
  write(bytes: Buffer): boolean {
    if (this.#done) return true;
    if (this.#connected && this.#socket) return this.#socket.write(bytes);
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    return this.#queued < QUEUE_LIMIT;
  }

  end(): void {
    if (this.#connected) this.#socket?.end();
    else this.#ending = true;
  }

  resume(): void {
    this.#socket?.resume();
  }

  destroy(): void {
    this.#done = true;
    this.#socket?.destroy();
  }

  // --- internal ---

  #try(index: number, next: number | null): void {
    const socket = connect({ host: HOSTS[index], port: this.#port, allowHalfOpen: true });
    this.#socket = socket;
    socket.once("connect", () => {
      if (this.#done) return void socket.destroy();
      socket.setNoDelay(true);
      this.#connected = true;
      lastHost.set(this.#port, index);
      for (const b of this.#queue) socket.write(b);
      this.#queue = [];
      this.#queued = 0;
      if (this.#ending) socket.end();
      this.#on.drain();
    });
    socket.on("data", (chunk: Buffer) => {
      // A bug here must cost this connection, never the daemon.
      try {
        if (!this.#on.data(chunk)) socket.pause();
      } catch (err) {
        console.error(`port-server: proxy connection failed: ${(err as Error).message}`);
        this.destroy();
      }
    });
    socket.on("drain", () => this.#on.drain());
    socket.on("end", () => this.#on.end());
    socket.on("error", () => {
      if (this.#connected || this.#done) return;
      if (next !== null) {
        socket.destroy();
        this.#try(next, null);
      } else {
        this.#done = true;
        this.#on.failed();
      }
    });
    socket.on("close", () => {
      if (this.#socket === socket && (this.#connected || this.#done)) {
        this.#done = true;
        this.#on.closed();
      }
    });
  }
}
