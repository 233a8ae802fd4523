// One client connection through the proxy. Each request head is read and checked here (Host,
// framing: head.ts), rewritten (X-Forwarded-*, Via) and passed on; bodies pass through as they
// arrive, their end found by counting (Content-Length) or by the chunk grammar (chunked.ts), so
// the next head on a kept-alive connection is read too. The first request's Host picks the
// upstream (an allocation's port on loopback) for the connection's whole life: a later request
// for another Host cuts it. Responses flow back untouched, with backpressure both ways, so a
// 1 GB upload or an endless event stream never sits in memory. After an Upgrade request
// (WebSocket) bytes flow untouched both ways. A head must arrive whole within the idle timeout,
// and a body must keep coming (PROXY_BODY_MIN_RATE); loops are cut by `Via` (PROXY_LOOP_HOPS)
// or, where a service drops it, by the bound on connections to one allocation.
import type { Socket } from "bun";
import { PROXY_BODY_MIN_RATE, PROXY_LOOP_HOPS, PROXY_MAX_HEAD_BYTES } from "../../core/config.ts";
import type { Store } from "../../core/store.ts";
import { ChunkError, ChunkedEnd } from "./chunked.ts";
import { churn } from "./churn.ts";
import { type Head, HeadError, headEnd, parseHead, values } from "./head.ts";
import { notRunning, page } from "./pages.ts";
import { route } from "./route.ts";
import { Sink } from "./sink.ts";
import { fdOf, spliceAvailable, spliceOn } from "./splice.ts";
import { Upstream } from "./upstream.ts";
import type { VisibleNames } from "./viewer.ts";

export interface ProxyContext {
  store: Store;
  /** The port the proxy listens on: a Host's port must be it, and an upstream never is. */
  proxyPort: number;
  /** The API's port: never an upstream either (a page must not reach the API through us). */
  apiPort: () => number;
  /** This proxy's mark in `Via`: a request that carries it PROXY_LOOP_HOPS times is a loop. */
  via: string;
  /** A request head must arrive whole within this (slowloris); a body never be silent longer. */
  headTimeoutMs: number;
  /** The scheme clients used (X-Forwarded-Proto); `https` once a TLS listener exists. */
  proto: "http" | "https";
  /** Allocations already marked as serving HTTP in this run (store.markHttp once each). */
  marked: Set<number>;
  /** The names a client may see listed on our pages: its own user's (viewer.ts). */
  visible: VisibleNames;
  /** Connections open to each allocation's port, and the most allowed (PROXY_MAX_UPSTREAMS). */
  open: Map<number, number>;
  maxUpstreams: number;
}

export type ClientSocket = Socket<Connection>;

/** Bun's socket events for the proxy's listeners; `socket.data` is the connection. */
export function clientHandlers(ctx: ProxyContext, sockets: Set<ClientSocket>) {
  return {
    open(socket: ClientSocket) {
      sockets.add(socket);
      socket.data = new Connection(socket, ctx);
    },
    data(socket: ClientSocket, chunk: Buffer) {
      socket.data.onData(chunk);
    },
    drain(socket: ClientSocket) {
      socket.data.onDrain();
    },
    end(socket: ClientSocket) {
      socket.data.onEnd();
    },
    close(socket: ClientSocket) {
      sockets.delete(socket);
      socket.data?.onClose();
    },
    error() {
      // `close` follows.
    },
  };
}

// --- internal ---

/** Bytes spliced on one turn of the event loop, before the others' events are served. */
const PUMP_BYTES = 4 * 1024 * 1024;
/** A read at least this large (of Bun's 512 KiB at most) is followed by a splice. */
const PUMP_AFTER = 64 * 1024;

type Mode = "head" | "length" | "chunked" | "tunnel" | "closed";

export class Connection {
  readonly #client: ClientSocket;
  readonly #ctx: ProxyContext;
  readonly #out = new Sink();
  #mode: Mode = "head";
  #pending: Buffer | null = null;
  #left = 0;
  #chunks = new ChunkedEnd();
  #upstream: Upstream | null = null;
  /** The allocation's port this connection counts against in ctx.open, until released. */
  #counted: number | null = null;
  #host: string | null = null;
  /** The client's address (X-Forwarded-For), asked of the socket once. */
  #remote: string | null = null;
  #requests = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** When a request body must have come further (ms, performance.now()). */
  #bodyDeadline = 0;
  /** The client is paused because the service is not taking its bytes (the body clock stops). */
  #held = false;
  /** The service has ended its side; the client's side ends once it has everything. */
  #ending = false;
  /** Our own answer is being written: the connection ends when it is out, not before. */
  #answering = false;
  /** A splice continues on the next turn (splice.ts), each way. */
  #pumpingDown = false;
  #pumpingUp = false;

  constructor(client: ClientSocket, ctx: ProxyContext) {
    this.#client = client;
    this.#ctx = ctx;
    this.#out.attach(client as Socket<unknown>);
    client.setNoDelay(true);
    this.#startTimer();
  }

  onData(chunk: Buffer): void {
    // A bug here must cost this connection, never the daemon.
    try {
      this.#onData(chunk);
    } catch (err) {
      console.error(`port-server: proxy connection failed: ${(err as Error).message}`);
      this.#close();
    }
  }

  onDrain(): void {
    if (this.#out.flush()) this.#upstream?.resume();
  }

  onEnd(): void {
    if (this.#upstream && this.#mode !== "closed") this.#upstream.end();
    else if (!this.#answering) this.#close();
  }

  onClose(): void {
    this.#answering = false;
    this.#close();
  }

  #onData(chunk: Buffer): void {
    this.#pass(chunk);
    if (chunk.length >= PUMP_AFTER) this.#pumpUp();
    // A body is still due: its clock runs unless the proxy itself holds the client back.
    if ((this.#mode === "length" || this.#mode === "chunked") && !this.#held && !this.#timer)
      this.#bodyTimer(this.#bodyDeadline - performance.now());
  }

  #pass(chunk: Buffer): void {
    let buf = chunk;
    let i = 0;
    while (i < buf.length && this.#mode !== "closed") {
      if (this.#mode === "head") {
        const data = this.#pending
          ? Buffer.concat([this.#pending, buf.subarray(i)])
          : buf.subarray(i);
        const end = headEnd(data);
        if ((end < 0 ? data.length : end) > PROXY_MAX_HEAD_BYTES) {
          this.#refuse(
            431,
            "Request head too large",
            "The request's headers are larger than the proxy accepts.",
          );
          return;
        }
        if (end < 0) {
          // Part of a head: it must be whole within the timeout from here.
          if (!this.#timer) this.#startTimer();
          this.#pending = data;
          return;
        }
        this.#pending = null;
        this.#stopTimer();
        if (!this.#onHead(data.subarray(0, end - 4).toString("latin1"))) return;
        buf = data;
        i = end;
      } else if (this.#mode === "length") {
        const n = Math.min(this.#left, buf.length - i);
        this.#send(buf.subarray(i, i + n));
        this.#left -= n;
        i += n;
        if (this.#left === 0) this.#bodyEnds();
        else this.#bodyCame(n);
      } else if (this.#mode === "chunked") {
        let end: number;
        try {
          end = this.#chunks.feed(buf, i);
        } catch (err) {
          if (!(err instanceof ChunkError)) throw err;
          this.#close();
          return;
        }
        this.#send(buf.subarray(i, end < 0 ? buf.length : end));
        if (end >= 0) this.#bodyEnds();
        else this.#bodyCame(buf.length - i);
        i = end < 0 ? buf.length : end;
      } else {
        this.#send(buf.subarray(i));
        i = buf.length;
      }
    }
  }

  /** Checks and forwards one head; false when the connection is being closed. */
  #onHead(text: string): boolean {
    let head: Head;
    try {
      head = parseHead(text);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      this.#refuse(err.status, "Bad request", err.message);
      return false;
    }
    if (passes(values(head.fields, "via"), this.#ctx.via) >= PROXY_LOOP_HOPS) {
      this.#refuse(
        508,
        "Loop detected",
        `This request has been through this proxy ${PROXY_LOOP_HOPS} times already: a service sends it back round.`,
        head,
      );
      return false;
    }
    if (this.#host === null) {
      if (!this.#connect(head)) return false;
    } else if (head.host.toLowerCase() !== this.#host) {
      // One upstream per connection: a browser never mixes hosts on one HTTP/1.1 connection.
      this.#close();
      return false;
    }
    this.#requests++;
    this.#remote ??= (this.#client.remoteAddress ?? "").replace(/^::ffff:/, "");
    this.#send(Buffer.from(rewrite(head, this.#remote, this.#ctx), "latin1"));
    if (head.upgrade) this.#mode = "tunnel";
    else if (head.body.kind === "length" && head.body.bytes > 0) {
      this.#mode = "length";
      this.#left = head.body.bytes;
      this.#bodyStarts();
    } else if (head.body.kind === "chunked") {
      this.#mode = "chunked";
      this.#chunks = new ChunkedEnd();
      this.#bodyStarts();
    }
    return true;
  }

  /** The first request: routes its Host, answers itself or opens the upstream. */
  #connect(head: Head): boolean {
    const ctx = this.#ctx;
    let r: ReturnType<typeof route>;
    try {
      r = route(ctx.store, head.host, ctx.proxyPort, () => ctx.visible(this.#client));
    } catch (err) {
      this.#refuse(
        502,
        "Registry unavailable",
        `port-server could not read its registry: ${(err as Error).message}`,
        head,
      );
      return false;
    }
    const opts = { proxyPort: ctx.proxyPort, head: head.method === "HEAD" };
    if (r.kind === "refused") {
      this.#refuse(r.status, r.status === 403 ? "Host not served" : "Bad request", r.reason, head);
      return false;
    }
    if (r.kind === "index" || r.kind === "unknown") {
      const title = r.kind === "index" ? "Names served here" : `No service is named ${r.name}`;
      const text = r.names.length
        ? "These are:"
        : "No allocation has a name yet: portctl run -- npm run dev gives one.";
      this.#answer(page(r.kind === "index" ? 200 : 404, title, text, { ...opts, names: r.names }));
      return false;
    }
    const a = r.allocation;
    if (a.port === ctx.proxyPort || a.port === ctx.apiPort()) {
      this.#refuse(
        508,
        "Loop detected",
        `${a.name} is registered on port ${a.port}, which is port-server's own.`,
        head,
      );
      return false;
    }
    const open = ctx.open.get(a.port) ?? 0;
    if (open >= ctx.maxUpstreams) {
      this.#refuse(
        503,
        "Too many connections",
        `${a.name} has ${open} connections open through this proxy, the most it allows: a service that sends requests back to its own name makes a loop like this.`,
        head,
      );
      return false;
    }
    ctx.open.set(a.port, open + 1);
    this.#counted = a.port;
    this.#host = head.host.toLowerCase();
    this.#upstream = new Upstream(a.port, {
      data: (chunk) => {
        if (!ctx.marked.has(a.id) && chunk.subarray(0, 5).toString("latin1") === "HTTP/") {
          ctx.marked.add(a.id);
          if (a.url === null) ctx.store.markHttp(a.id);
        }
        churn(chunk.length);
        // A full read says more may be waiting: that goes by splice. After a small one (the
        // common small response) nothing is asked: a splice that finds nothing costs a call.
        return this.#out.write(chunk) && (chunk.length < PUMP_AFTER || this.#pumpDown());
      },
      drain: () => this.#resume(),
      end: () => this.#serviceEnded(),
      failed: () => {
        if (this.#mode === "closed") return;
        this.#answer(page(502, `${a.name} is not running`, notRunning(a), opts));
      },
      // Once ended, the client's own close finishes the connection: a cut now would drop
      // what is still queued for a slow client.
      closed: () => {
        this.#release();
        if (!this.#ending) this.#close();
      },
    });
    return true;
  }

  /** The service's end, passed on after what is still queued for the client. */
  #serviceEnded(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#out.end();
  }

  /**
   * What the service has sent beyond Bun's read goes to the client by splice (splice.ts), at
   * most PUMP_BYTES now and the rest on the next turn; false when the client is full (pause the
   * service until its drain).
   */
  #pumpDown(): boolean {
    if (!spliceAvailable || this.#mode === "closed" || this.#ending || this.#pumpingDown)
      return true;
    const from = this.#upstream?.fd ?? -1;
    const to = fdOf(this.#client);
    if (from < 0 || to < 0) return true;
    const r = spliceOn(from, to, PUMP_BYTES);
    if (r.failed) {
      this.#close();
      return true;
    }
    const room = r.rest === null || this.#out.write(r.rest);
    if (r.eof) this.#serviceEnded();
    else if (room && r.moved >= PUMP_BYTES) {
      // More may be waiting: the next turn, after the others' events.
      this.#pumpingDown = true;
      setImmediate(() => {
        this.#pumpingDown = false;
        if (!this.#pumpDown()) this.#upstream?.pause();
      });
    }
    return room;
  }

  /**
   * The rest of a request body of known length (or a tunnel's bytes) the client has waiting goes
   * to the service by splice, as #pumpDown does the other way.
   */
  #pumpUp(): void {
    const up = this.#upstream;
    if (!spliceAvailable || !up?.clear || this.#held || this.#pumpingUp) return;
    if (this.#mode !== "length" && this.#mode !== "tunnel") return;
    const from = fdOf(this.#client);
    const to = up.fd;
    if (from < 0 || to < 0) return;
    const max = this.#mode === "length" ? Math.min(this.#left, PUMP_BYTES) : PUMP_BYTES;
    const r = spliceOn(from, to, max);
    if (r.failed) {
      this.#close();
      return;
    }
    const taken = r.moved + (r.rest?.length ?? 0);
    if (r.rest) this.#send(r.rest);
    if (this.#mode === "length") {
      this.#left -= taken;
      if (this.#left === 0) this.#bodyEnds();
      else this.#bodyCame(taken);
    }
    if (r.eof) this.onEnd();
    else if (taken >= max && max > 0 && !this.#held && (this.#mode as Mode) !== "head") {
      this.#pumpingUp = true;
      setImmediate(() => {
        this.#pumpingUp = false;
        this.#pumpUp();
      });
    }
  }

  #send(bytes: Buffer): void {
    if (bytes.length === 0 || !this.#upstream) return;
    churn(bytes.length);
    if (!this.#upstream.write(bytes)) {
      this.#held = true;
      this.#client.pause();
    }
  }

  /** The service took everything: read the client again (and restart a body's clock). */
  #resume(): void {
    if (!this.#held || this.#mode === "closed") return;
    this.#held = false;
    this.#client.resume();
    if (this.#mode === "length" || this.#mode === "chunked") {
      this.#bodyStarts();
      if (!this.#timer) this.#bodyTimer(this.#ctx.headTimeoutMs);
    }
  }

  #refuse(status: number, title: string, text: string, head?: Head): void {
    // An answer in the middle of a kept-alive exchange would be read as another response.
    if (this.#requests > 0) {
      this.#close();
      return;
    }
    this.#answer(page(status, title, text, { head: head?.method === "HEAD" }));
  }

  /** Our own answer, then the connection ends (cut after the idle timeout if never read). */
  #answer(bytes: Buffer): void {
    if (this.#answering) return;
    this.#answering = true;
    this.#mode = "closed";
    this.#stopTimer();
    this.#upstream?.destroy();
    this.#release();
    this.#out.write(bytes);
    this.#out.end();
    this.#timer = setTimeout(() => this.#client.terminate(), this.#ctx.headTimeoutMs);
  }

  #startTimer(): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#requests === 0)
        this.#refuse(408, "Request timeout", "The request head did not arrive in time.");
      else this.#close();
    }, this.#ctx.headTimeoutMs);
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** A request body begins (or the client is read again): it has the idle timeout to go on. */
  #bodyStarts(): void {
    this.#bodyDeadline = performance.now() + this.#ctx.headTimeoutMs;
  }

  /** `n` bytes of a body came and more are due: they buy time, up to the idle timeout ahead. */
  #bodyCame(n: number): void {
    this.#bodyDeadline = Math.min(
      performance.now() + this.#ctx.headTimeoutMs,
      this.#bodyDeadline + (n * 1000) / PROXY_BODY_MIN_RATE,
    );
  }

  #bodyEnds(): void {
    this.#mode = "head";
    this.#stopTimer();
  }

  #bodyTimer(ms: number): void {
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        if (this.#mode !== "length" && this.#mode !== "chunked") return;
        if (this.#held) return; // restarted by #resume
        const left = this.#bodyDeadline - performance.now();
        if (left > 0) this.#bodyTimer(left);
        else this.#close(); // a response may be under way: no page of our own
      },
      Math.max(ms, 1),
    );
  }

  #release(): void {
    if (this.#counted === null) return;
    const left = (this.#ctx.open.get(this.#counted) ?? 1) - 1;
    if (left > 0) this.#ctx.open.set(this.#counted, left);
    else this.#ctx.open.delete(this.#counted);
    this.#counted = null;
  }

  #close(): void {
    if (this.#answering) return;
    this.#mode = "closed";
    this.#stopTimer();
    this.#upstream?.destroy();
    this.#release();
    this.#client.terminate();
  }
}

/** How many times a request has passed the proxy marked `via`, by its Via fields. */
function passes(vias: string[], via: string): number {
  let n = 0;
  for (const v of vias) {
    for (let i = v.indexOf(via); i >= 0; i = v.indexOf(via, i + via.length)) n++;
  }
  return n;
}

/** The head as the upstream receives it: the client's forwarding fields replaced by ours. */
function rewrite(head: Head, remote: string, ctx: ProxyContext): string {
  let out = `${head.method} ${head.target} ${head.version}\r\n`;
  for (const [name, value] of head.fields) {
    if (!DROPPED.has(name.toLowerCase())) out += `${name}: ${value}\r\n`;
  }
  out += `X-Forwarded-For: ${remote}\r\nX-Forwarded-Proto: ${ctx.proto}\r\nX-Forwarded-Host: ${head.host}\r\nVia: ${head.version.slice(5)} ${ctx.via}\r\n\r\n`;
  return out;
}

/** Set by the proxy only: a client's own would be believed by the upstream. */
const DROPPED = new Set(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded"]);
