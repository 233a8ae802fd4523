// Writing to one of Bun's own sockets (Bun.listen, Bun.connect): its `write` hands the kernel
// what fits and returns the count, keeping nothing. What the kernel did not take waits here, in
// order, until the socket's `drain`; the caller pauses its source meanwhile (backpressure), so
// at most one read's worth waits per direction.
import type { Socket } from "bun";

export class Sink {
  #socket: Socket<unknown> | null = null;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ending = false;
  #ended = false;

  /** The socket to write to; what was written before it existed goes first. */
  attach(socket: Socket<unknown>): void {
    this.#socket = socket;
    this.flush();
  }

  /** Bytes waiting for the socket. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Passes `bytes` on (the caller must not change them afterwards); false when some had to wait:
   * pause the source until `flush()` returns true.
   */
  write(bytes: Uint8Array): boolean {
    if (this.#ended) return true;
    const socket = this.#socket;
    if (socket === null || this.#queued > 0) {
      this.#push(bytes);
      return false;
    }
    const n = socket.write(bytes);
    if (n === bytes.length || n < 0) return true; // n < 0: closed, its close handler cleans up
    this.#push(n === 0 ? bytes : bytes.subarray(n));
    return false;
  }

  /** Writes what waits (on `drain`); true when nothing waits any more. */
  flush(): boolean {
    const socket = this.#socket;
    if (socket === null) return this.#queued === 0;
    while (this.#queue.length > 0) {
      const bytes = this.#queue[0] as Uint8Array;
      const n = socket.write(bytes);
      if (n < 0) {
        this.#queue = [];
        this.#queued = 0;
        break;
      }
      this.#queued -= Math.max(n, 0);
      if (n < bytes.length) {
        this.#queue[0] = bytes.subarray(n);
        return false;
      }
      this.#queue.shift();
    }
    if (this.#ending) this.#finish();
    return true;
  }

  /** Ends the writing side (FIN) once everything queued is out. */
  end(): void {
    this.#ending = true;
    if (this.#socket !== null && this.#queued === 0) this.#finish();
  }

  // --- internal ---

  #push(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#queued += bytes.length;
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket?.shutdown();
  }
}
