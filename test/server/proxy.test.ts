// The names proxy with real sockets: routing by Host, what the upstream receives, keep-alive,
// streaming both ways, WebSocket upgrade, our own pages (unknown name, 502, 508), and the mark
// that a service serves HTTP. Hostile requests: test/security/proxy.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { connect, createServer } from "node:net";
import {
  bodyOf,
  forwarder,
  get,
  type Recorded,
  raw,
  register,
  statusOf,
  type TestProxy,
  testProxy,
  upstream,
} from "../helpers/proxy.ts";

/** The proxy's bounds in these tests (testProxy's defaults). */
const LOOP_HOPS = 8;
const MAX_UPSTREAMS = 32;

let t: TestProxy;
let up: Recorded;
let host: (name: string) => string;

beforeAll(async () => {
  t = await testProxy();
  up = await upstream();
  host = (name) => `${name}:${t.port}`;
  register(t.store, "web", up.port);
});
afterAll(async () => {
  await up.close();
  await t.close();
});
afterEach(() => {
  up.requests.length = 0;
  up.bodies.length = 0;
});

describe("routing", () => {
  test("a name reaches its allocation's port, with the forwarding fields set by us alone", async () => {
    const text = await get(
      t.port,
      host("web.shop.localhost"),
      "/a/b?c=1",
      "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nForwarded: for=6.6.6.6\r\n",
    );
    expect(statusOf(text)).toBe(200);
    const seen = JSON.parse(bodyOf(text));
    expect(seen.url).toBe("/a/b?c=1");
    expect(seen.headers.host).toBe(host("web.shop.localhost"));
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toBe(host("web.shop.localhost"));
    expect(seen.headers.forwarded).toBeUndefined();
    expect(seen.headers.via).toMatch(/^1\.1 port-server-[0-9a-f]{8}$/);
  });

  test("the checkout's short name is its main web service; case and a final dot do not matter", async () => {
    for (const name of ["shop.localhost", "WEB.Shop.LOCALHOST", "web.shop.localhost."]) {
      expect(statusOf(await get(t.port, host(name)))).toBe(200);
    }
    expect(up.requests).toHaveLength(3);
  });

  test("over IPv6 loopback too", async () => {
    const r = await raw(
      t.port,
      [`GET / HTTP/1.1\r\nHost: ${host("web.shop.localhost")}\r\nConnection: close\r\n\r\n`],
      { host: "::1" },
    );
    expect(statusOf(r.text)).toBe(200);
    expect(JSON.parse(bodyOf(r.text)).headers["x-forwarded-for"]).toBe("::1");
  });

  test("an unknown name under .localhost: 404 listing the app's names, escaped", async () => {
    register(t.store, "<b>x</b>", 1, {
      app: "shop",
      instance: "main",
      http: false,
      name: "x.shop",
    });
    const text = await get(t.port, host("nope.shop.localhost"));
    expect(statusOf(text)).toBe(404);
    expect(text).toContain("Content-Security-Policy: default-src 'none'");
    expect(text).toContain(`<a href="http://web.shop.localhost:${t.port}">web.shop.localhost</a>`);
    expect(text).toContain("shop/main/&#60;b&#62;x&#60;/b&#62;");
    expect(text).not.toContain("<b>x</b>");
    expect(up.requests).toHaveLength(0);
  });

  test("bare localhost: the index of every name", async () => {
    const text = await get(t.port, host("localhost"));
    expect(statusOf(text)).toBe(200);
    expect(text).toContain("web.shop.localhost");
  });

  test("a service that is not listening: 502 naming it and how to start it", async () => {
    const dead = await upstream();
    await dead.close();
    register(t.store, "api", dead.port, { instance: "fix-ui", name: "api.fix-ui.shop" });
    const text = await get(t.port, host("api.fix-ui.shop.localhost"));
    expect(statusOf(text)).toBe(502);
    expect(bodyOf(text)).toContain(
      `api of shop/fix-ui is not running on port ${dead.port} — start it with: portctl run --service api --instance fix-ui -- npm run dev`,
    );
  });
});

describe("loops", () => {
  test("an allocation on the proxy's own port or the API's: 508, nothing forwarded", async () => {
    const api = await testProxy({ apiPort: 4321 });
    try {
      register(api.store, "self", api.port, { name: "self.shop" });
      register(api.store, "api", 4321, { name: "api.shop" });
      expect(statusOf(await get(api.port, `self.shop.localhost:${api.port}`))).toBe(508);
      expect(statusOf(await get(api.port, `api.shop.localhost:${api.port}`))).toBe(508);
    } finally {
      await api.close();
    }
  });

  test("a request that has been through this proxy too often already: 508, nothing forwarded", async () => {
    const first = JSON.parse(bodyOf(await get(t.port, host("web.shop.localhost"))));
    const again = await get(
      t.port,
      host("web.shop.localhost"),
      "/",
      `Via: ${Array(LOOP_HOPS).fill(first.headers.via).join(", ")}\r\n`,
    );
    expect(statusOf(again)).toBe(508);
    expect(up.requests).toHaveLength(1);
  });

  test("a service that calls another through the proxy, passing on every field (Via too), is served", async () => {
    // A dev server's own proxy (Vite's server.proxy to API_URL) copies the browser's fields.
    const front = await forwarder(t.port, (h) => ({ ...h, host: host("web.shop.localhost") }));
    try {
      register(t.store, "front", front.port, { name: "front.shop" });
      const text = await get(t.port, host("front.shop.localhost"));
      expect(statusOf(text)).toBe(200);
      expect(JSON.parse(bodyOf(text)).headers.via).toMatch(
        /^1\.1 port-server-\w+, 1\.1 port-server-\w+$/,
      );
    } finally {
      await front.close();
    }
  });

  test("a service that sends each request back to its own name: 508 after a few rounds", async () => {
    const loop = await forwarder(t.port, (h) => h);
    try {
      register(t.store, "loop", loop.port, { name: "loop.shop" });
      const text = await get(t.port, host("loop.shop.localhost"));
      expect(statusOf(text)).toBe(508);
      expect(loop.hops()).toBe(LOOP_HOPS);
    } finally {
      await loop.close();
    }
  });

  test("the same through a service that strips Via: cut at the connection bound (503), the proxy still serves", async () => {
    const loop = await forwarder(t.port, ({ via: _, ...h }) => h);
    try {
      register(t.store, "strip", loop.port, { name: "strip.shop" });
      const text = await get(t.port, host("strip.shop.localhost"));
      expect(statusOf(text)).toBe(503);
      expect(bodyOf(text)).toContain("loop");
      expect(loop.hops()).toBe(MAX_UPSTREAMS);
      expect(statusOf(await get(t.port, host("web.shop.localhost")))).toBe(200);
      // Once the loop's connections have closed, the bound is whole again for this name.
      for (let i = 0; i < 50 && loop.hops() < 2 * MAX_UPSTREAMS; i++) {
        await Bun.sleep(100);
        expect(statusOf(await get(t.port, host("strip.shop.localhost")))).toBe(503);
      }
      expect(loop.hops()).toBe(2 * MAX_UPSTREAMS);
    } finally {
      await loop.close();
    }
  });
});

describe("connections and bodies", () => {
  test("keep-alive: several requests, bodies of both framings, on one connection each side", async () => {
    const before = up.connections;
    const h = host("web.shop.localhost");
    const r = await raw(
      t.port,
      [
        `POST /1 HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 5\r\n\r\nhello`,
        `POST /2 HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n`,
        `GET /3 HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`,
      ],
      { gapMs: 50 },
    );
    expect(r.text.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    expect(up.bodies).toEqual(["hello", "abcde", ""]);
    expect(up.requests.map((q) => q.url)).toEqual(["/1", "/2", "/3"]);
    expect(up.connections - before).toBe(1);
  });

  test("a response streams: each event arrives before the next is written", async () => {
    let send: ((s: string) => void) | undefined;
    const sse = await upstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
      send = (s) => res.end(s);
    });
    register(t.store, "events", sse.port, { name: "events.shop" });
    try {
      const socket = connect(t.port, "127.0.0.1");
      let got = "";
      socket.on("data", (c) => {
        got += c.toString();
      });
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host("events.shop.localhost")}\r\nX-Stream: 1\r\n\r\n`,
      );
      await until(() => got.includes("data: one"));
      expect(got).not.toContain("data: two");
      send?.("data: two\n\n");
      await until(() => got.includes("data: two"));
      socket.destroy();
    } finally {
      await sse.close();
    }
  });

  test("a request body streams: the service reads its start before the client sends the rest", async () => {
    let received = 0;
    const sink = await upstream((req, res) => {
      req.on("data", (c: Buffer) => {
        received += c.length;
      });
      req.on("end", () => res.end(String(received)));
    });
    register(t.store, "sink", sink.port, { name: "sink.shop" });
    try {
      const socket = connect(t.port, "127.0.0.1");
      let got = "";
      socket.on("data", (c) => {
        got += c.toString();
      });
      const size = 8 * 1024 * 1024;
      socket.write(
        `PUT / HTTP/1.1\r\nHost: ${host("sink.shop.localhost")}\r\nX-Stream: 1\r\nContent-Length: ${size * 2}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(size, 1));
      // The second half is not sent until the service has most of the first.
      await until(() => received >= size / 2);
      expect(received).toBeLessThanOrEqual(size);
      socket.write(Buffer.alloc(size, 2));
      await until(() => got.includes(String(size * 2)));
      socket.destroy();
    } finally {
      await sink.close();
    }
  });

  test("a response that ends with the connection arrives whole, however slow the client", async () => {
    const size = 16 * 1024 * 1024;
    const closer = createServer((s) => {
      s.once("data", () => {
        // HTTP/1.0 style: no length, the end of the connection ends the body.
        s.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        s.end(Buffer.alloc(size, 7));
      });
    });
    await new Promise<void>((r) => closer.listen(0, "127.0.0.1", r));
    const closerPort = (closer.address() as { port: number }).port;
    register(t.store, "closer", closerPort, { name: "closer.shop" });
    try {
      const socket = connect(t.port, "127.0.0.1");
      let received = 0;
      socket.on("data", (c: Buffer) => {
        received += c.length;
        // A slow reader: the proxy must hold what it cannot write yet, not drop it.
        socket.pause();
        setTimeout(() => socket.resume(), 10);
      });
      const closed = new Promise<void>((r) => socket.on("close", () => r()));
      socket.write(`GET / HTTP/1.1\r\nHost: ${host("closer.shop.localhost")}\r\n\r\n`);
      await closed;
      const head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".length;
      expect(received).toBe(head + size);
    } finally {
      closer.close();
    }
  }, 30_000);

  test("big bodies both ways, byte for byte and in order, then the next request on the same connections", async () => {
    // Bodies of a known length beyond one read go by splice (proxy/splice.ts) where the kernel
    // has it: every byte must still arrive once, in order, and the body's end be the end (the
    // next request and response on the kept-alive connections are untouched).
    const size = 24 * 1024 * 1024 + 7;
    const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
    const body = pattern(size);
    const checks: string[] = [];
    const echo = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on("data", (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        for (;;) {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = buf.subarray(0, end).toString("latin1");
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          const got = buf.subarray(end + 4, end + 4 + length);
          buf = buf.subarray(end + 4 + length);
          // Each head read and rewritten by the proxy (its Via), none passed on blind.
          const via = /\r\nvia: 1\.1 port-server-/i.test(head) ? "" : " without Via";
          checks.push(
            `${length === 0 || got.equals(body) ? "ok" : `bad upload of ${got.length}`}${via}`,
          );
          const out = head.startsWith("POST") ? Buffer.alloc(0) : body;
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${out.length}\r\n\r\n`);
          s.write(out);
        }
      });
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    register(t.store, "echo", (echo.address() as { port: number }).port, { name: "echo.shop" });
    try {
      const h = host("echo.shop.localhost");
      const socket = connect(t.port, "127.0.0.1");
      let got = Buffer.alloc(0);
      socket.on("data", (c: Buffer) => {
        got = Buffer.concat([got, c]);
        // A slow reader now and then: what the client cannot take yet must wait, in order.
        if (got.length % 7 === 0) {
          socket.pause();
          setTimeout(() => socket.resume(), 5);
        }
      });
      socket.write(`POST /up HTTP/1.1\r\nHost: ${h}\r\nContent-Length: ${size}\r\n\r\n`);
      socket.write(body);
      socket.write(`GET /down HTTP/1.1\r\nHost: ${h}\r\n\r\n`);
      socket.write(`GET /again HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 0\r\n\r\n`);
      const first = `HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`;
      const second = `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`;
      const total = first.length + 2 * (second.length + size);
      await until(() => got.length >= total, 60_000);
      socket.destroy();
      expect(got.length).toBe(total);
      expect(checks).toEqual(["ok", "ok", "ok"]);
      const one = got.subarray(first.length + second.length, first.length + second.length + size);
      expect(one.equals(body)).toBe(true);
      expect(got.subarray(got.length - size).equals(body)).toBe(true);
    } finally {
      echo.close();
    }
  }, 90_000);

  test("a big response that ends with the connection, to a fast client: whole, and the client's end follows", async () => {
    const size = 32 * 1024 * 1024;
    const closer = createServer((s) => {
      s.once("data", () => {
        s.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        s.end(Buffer.alloc(size, 9));
      });
    });
    await new Promise<void>((r) => closer.listen(0, "127.0.0.1", r));
    register(t.store, "fast", (closer.address() as { port: number }).port, { name: "fast.shop" });
    try {
      const socket = connect(t.port, "127.0.0.1");
      let received = 0;
      socket.on("data", (c: Buffer) => {
        received += c.length;
      });
      const closed = new Promise<void>((r) => socket.on("close", () => r()));
      socket.write(`GET / HTTP/1.1\r\nHost: ${host("fast.shop.localhost")}\r\n\r\n`);
      await closed;
      expect(received).toBe("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".length + size);
    } finally {
      closer.close();
    }
  }, 30_000);

  test("WebSocket: the upgrade is forwarded and frames flow both ways", async () => {
    const ws = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, server) {
        return server.upgrade(req) ? undefined : new Response("no", { status: 400 });
      },
      websocket: {
        message(socket, message) {
          socket.send(`echo ${message}`);
        },
      },
    });
    register(t.store, "hmr", ws.port as number, { name: "hmr.shop" });
    try {
      const socket = connect(t.port, "127.0.0.1");
      let got = Buffer.alloc(0);
      socket.on("data", (c: Buffer) => {
        got = Buffer.concat([got, c]);
      });
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${host("hmr.shop.localhost")}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      await until(() => got.includes("\r\n\r\n"));
      expect(got.toString("latin1")).toStartWith("HTTP/1.1 101");
      const headEnd = got.indexOf("\r\n\r\n") + 4;
      socket.write(maskedText("ping"));
      await until(() => got.length > headEnd + 2);
      const frame = got.subarray(headEnd);
      expect(frame[0]).toBe(0x81);
      expect(frame.subarray(2, 2 + (frame[1] as number)).toString()).toBe("echo ping");
      socket.destroy();
    } finally {
      ws.stop(true);
    }
  });
});

describe("which services serve HTTP", () => {
  test("one that answers HTTP through the proxy is marked, and gets a url", async () => {
    const plain = await upstream();
    const a = register(t.store, "admin", plain.port, { http: false, name: "admin.shop" });
    expect(a.url).toBeNull();
    try {
      expect(statusOf(await get(t.port, host("admin.shop.localhost")))).toBe(200);
      expect(t.store.byId(a.id)?.url).toBe(`http://admin.shop.localhost:${t.port}`);
    } finally {
      await plain.close();
    }
  });

  test("one that answers something else (a database) is not", async () => {
    const db = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s) {
          s.end("\u0000\u0000\u0000\u0008garbage");
        },
      },
    });
    const a = register(t.store, "db", db.port, { http: false, name: "db.shop" });
    try {
      await get(t.port, host("db.shop.localhost"));
      expect(t.store.byId(a.id)?.url).toBeNull();
    } finally {
      db.stop(true);
    }
  });
});

// --- internal ---

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(5);
  }
}

/** A client's masked text frame (RFC 6455), payload under 126 bytes. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = payload.map((b, i) => b ^ (mask[i % 4] as number));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(masked)]);
}
