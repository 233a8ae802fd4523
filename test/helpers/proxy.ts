// The names proxy in-process for tests: a store, the proxy on a free port, and upstream servers
// that record what reaches them (every connection and every request head), plus a raw client
// that writes exact bytes, so malformed and hostile requests reach the proxy as written.
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
} from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { Owners } from "../../src/core/owners.ts";
import { openPeerReader } from "../../src/core/peercred.ts";
import { Store } from "../../src/core/store.ts";
import { type NamesProxy, startProxy } from "../../src/server/proxy/listener.ts";
import { ownNames } from "../../src/server/proxy/viewer.ts";

export interface TestProxy {
  store: Store;
  proxy: NamesProxy;
  port: number;
  close(): Promise<void>;
}

export async function testProxy(
  opts: { apiPort?: number; headTimeoutMs?: number; maxUpstreams?: number } = {},
) {
  const store = new Store(":memory:");
  const proxy = await startProxy({
    store,
    setting: 0,
    apiPort: () => opts.apiPort ?? 1,
    headTimeoutMs: opts.headTimeoutMs ?? 2000,
    // As the daemon: the pages list the names of the client's user, asked of the kernel.
    visible: ownNames(store, new Owners(process.getuid?.() ?? 0), openPeerReader()),
    maxUpstreams: opts.maxUpstreams ?? 32,
  });
  const port = proxy.status.port;
  if (port === null) throw new Error(`proxy did not start: ${proxy.status.note}`);
  return {
    store,
    proxy,
    port,
    async close() {
      await proxy.close();
      store.close();
    },
  } satisfies TestProxy;
}

/** Registers a service on `port` (HTTP when `http`). */
export function register(
  store: Store,
  service: string,
  port: number,
  opts: { app?: string; instance?: string; http?: boolean; name?: string } = {},
) {
  return store.write(() =>
    store.insert({
      app: opts.app ?? "shop",
      instance: opts.instance ?? "main",
      service,
      port,
      created_at: "2026-01-01T00:00:00Z",
      http: opts.http ?? true,
      ...(opts.name ? { name: `${opts.name}.localhost` } : {}),
    }),
  );
}

export interface Recorded {
  port: number;
  connections: number;
  requests: IncomingMessage[];
  bodies: string[];
  server: Server;
  close(): Promise<void>;
}

/** An HTTP server (node:http, as dev servers are) that answers `handler` or echoes the request. */
export async function upstream(
  handler?: (req: IncomingMessage, res: import("node:http").ServerResponse, body: string) => void,
): Promise<Recorded> {
  const rec = { connections: 0, requests: [], bodies: [] } as unknown as Recorded;
  const server = createHttpServer((req, res) => {
    rec.requests.push(req);
    if (handler && req.headers["x-stream"]) return handler(req, res, "");
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      rec.bodies.push(body);
      if (handler) return handler(req, res, body);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ url: req.url, method: req.method, headers: req.headers, body }));
    });
  });
  server.on("connection", () => rec.connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  rec.port = (server.address() as { port: number }).port;
  rec.server = server;
  rec.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return rec;
}

/**
 * A service that sends every request it gets on to the proxy (`proxyPort`) with the fields
 * `fields` makes of the ones it got, and answers with what came back: a service calling another
 * by its name, or, sent to its own name, a loop. It gives up by itself after 500 rounds (599).
 */
export async function forwarder(
  proxyPort: number,
  fields: (got: IncomingHttpHeaders) => IncomingHttpHeaders,
): Promise<{ port: number; hops: () => number; close(): Promise<void> }> {
  let hops = 0;
  const rec = await upstream((req, res) => {
    if (++hops > 500) return void res.writeHead(599).end("runaway");
    const out = request(
      {
        host: "127.0.0.1",
        port: proxyPort,
        path: req.url,
        headers: fields(req.headers),
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.writeHead(599).end("forward failed"));
    out.end();
  });
  return { port: rec.port, hops: () => hops, close: rec.close };
}

/**
 * A TCP service that records every byte it receives (what the proxy forwarded, exactly) and
 * answers each read with an empty 200: no HTTP parser of its own to refuse what the proxy lets by.
 */
export async function recorder(): Promise<{
  port: number;
  connections: () => number;
  received: () => string;
  close(): void;
}> {
  let connections = 0;
  let received = "";
  const server = createServer((s) => {
    connections++;
    s.on("data", (c: Buffer) => {
      received += c.toString("latin1");
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    received: () => received,
    close: () => server.close(),
  };
}

/** A TCP listener that only counts who connects: the port no request may reach. */
export async function sentinel(): Promise<{ port: number; hits: () => number; close(): void }> {
  let hits = 0;
  const server = createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    hits: () => hits,
    close: () => server.close(),
  };
}

/**
 * Writes `parts` to the proxy (waiting `gapMs` between them) and reads until the proxy closes
 * the connection or `waitMs` pass; `closed` says which.
 */
export async function raw(
  port: number,
  parts: (string | Buffer)[],
  opts: { gapMs?: number; waitMs?: number; host?: string } = {},
): Promise<{ text: string; closed: boolean }> {
  const socket = connect({ port, host: opts.host ?? "127.0.0.1" });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (c: Buffer) => {
    chunks.push(c);
  });
  const done = new Promise<void>((r) =>
    socket.on("close", () => {
      closed = true;
      r();
    }),
  );
  socket.on("error", () => undefined);
  await new Promise<void>((r, j) => socket.once("connect", r).once("error", j));
  for (const p of parts) {
    if (socket.destroyed) break;
    socket.write(p);
    if (opts.gapMs) await Bun.sleep(opts.gapMs);
  }
  await Promise.race([done, Bun.sleep(opts.waitMs ?? 2000)]);
  socket.destroy();
  return { text: Buffer.concat(chunks).toString("utf8"), closed };
}

/** `GET path` for `host` on a fresh connection, closed after the answer. */
export function get(port: number, host: string, path = "/", extra = ""): Promise<string> {
  return raw(port, [
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`,
  ]).then((r) => r.text);
}

/** The status code of a raw response, or 0 when there was none. */
export function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

/** The body of a raw response (after the head). */
export function bodyOf(text: string): string {
  return text.slice(text.indexOf("\r\n\r\n") + 4);
}

export type { Socket };
