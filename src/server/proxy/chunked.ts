// Where a chunked request body ends, found while its bytes pass through untouched: the proxy
// must know, to read the next request's head on a kept-alive connection. The chunk data is
// skipped by counting; only sizes, extensions and trailers are looked at byte by byte.

/** A chunked body that breaks the grammar: the connection is cut. */
export class ChunkError extends Error {}

export class ChunkedEnd {
  #state = State.Size;
  #size = 0;
  #digits = 0;
  /** Bytes of chunk data still to skip. */
  #left = 0;
  /** Characters in the current trailer line. */
  #line = 0;

  /**
   * Feeds `buf` from `start`; returns the index just past the body's end, or -1 when the body
   * goes on past `buf`. Throws ChunkError on a malformed body.
   */
  feed(buf: Uint8Array, start = 0): number {
    let i = start;
    while (i < buf.length) {
      if (this.#state === State.Data) {
        const n = Math.min(this.#left, buf.length - i);
        this.#left -= n;
        i += n;
        if (this.#left === 0) this.#state = State.DataCr;
        continue;
      }
      const done = this.#byte(buf[i] as number);
      i++;
      if (done) return i;
    }
    return -1;
  }

  /** One byte outside chunk data; true when it was the body's last. */
  #byte(c: number): boolean {
    switch (this.#state) {
      case State.Size: {
        const d = hex(c);
        if (d >= 0 && this.#digits < 15) {
          this.#size = this.#size * 16 + d;
          this.#digits++;
        } else if (this.#digits > 0 && (c === SEMI || c === SP || c === TAB)) {
          this.#state = State.Ext;
        } else if (this.#digits > 0 && c === CR) {
          this.#state = State.SizeLf;
        } else throw new ChunkError("malformed chunk size");
        return false;
      }
      case State.Ext:
        if (c === CR) this.#state = State.SizeLf;
        else if (c === LF || c < 0x09) throw new ChunkError("malformed chunk extension");
        return false;
      case State.SizeLf:
        if (c !== LF) throw new ChunkError("chunk size line without LF");
        if (this.#size === 0) {
          this.#state = State.TrailerStart;
        } else {
          this.#left = this.#size;
          this.#state = State.Data;
        }
        this.#size = 0;
        this.#digits = 0;
        return false;
      case State.DataCr:
        if (c !== CR) throw new ChunkError("chunk data longer than its size");
        this.#state = State.DataLf;
        return false;
      case State.DataLf:
        if (c !== LF) throw new ChunkError("chunk data without CRLF");
        this.#state = State.Size;
        return false;
      case State.TrailerStart:
        if (c === CR) {
          this.#state = State.EndLf;
          return false;
        }
        this.#line = 0;
        this.#state = State.Trailer;
        return this.#byte(c);
      case State.Trailer:
        if (c === CR) this.#state = State.TrailerLf;
        else if (c === LF || ++this.#line > 8192) throw new ChunkError("malformed trailer");
        return false;
      case State.TrailerLf:
        if (c !== LF) throw new ChunkError("malformed trailer");
        this.#state = State.TrailerStart;
        return false;
      case State.EndLf:
        if (c !== LF) throw new ChunkError("malformed last chunk");
        this.#state = State.Size;
        return true;
      default:
        throw new ChunkError("unexpected state");
    }
  }
}

// --- internal ---

enum State {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  EndLf,
}

const CR = 13;
const LF = 10;
const SEMI = 59;
const SP = 32;
const TAB = 9;

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
