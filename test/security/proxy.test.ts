// Hostile requests to the names proxy: each is refused (a 4xx page) or cut, the proxy keeps
// serving, and nothing reaches a port that is not an allocation: a sentinel listener counts
// every connection made to it, and the allocation's own server counts what reached it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import {
  get,
  type Recorded,
  raw,
  recorder,
  register,
  sentinel,
  statusOf,
  type TestProxy,
  testProxy,
  upstream,
} from "../helpers/proxy.ts";

let t: TestProxy;
let up: Recorded;
let guard: Awaited<ReturnType<typeof sentinel>>;
let rec: Awaited<ReturnType<typeof recorder>>;
let web: string;
/** The recorder's name: what the proxy passes on reaches it byte for byte. */
let recHost: string;

beforeAll(async () => {
  t = await testProxy({ headTimeoutMs: 300 });
  up = await upstream();
  guard = await sentinel();
  rec = await recorder();
  register(t.store, "web", up.port);
  register(t.store, "raw", rec.port, { name: "raw.shop" });
  web = `web.shop.localhost:${t.port}`;
  recHost = `raw.shop.localhost:${t.port}`;
});
afterAll(async () => {
  // Nothing of all this reached the port no allocation holds, and the proxy still serves.
  expect(guard.hits()).toBe(0);
  expect(statusOf(await get(t.port, web))).toBe(200);
  guard.close();
  rec.close();
  await up.close();
  await t.close();
});

/** Sends one request head with `host`; the answer's status, and how many requests got through. */
async function withHost(host: string): Promise<[number, number]> {
  const before = up.requests.length;
  const status = statusOf(await get(t.port, host));
  return [status, up.requests.length - before];
}

describe("Host", () => {
  test.each([
    ["another domain", "evil.example"],
    ["another domain with our port", "evil.example:PORT"],
    ["a name that only starts like ours", "web.shop.localhost.evil.example"],
    ["a name that only ends like ours", "web.shop.notlocalhost"],
    ["an IPv4 literal", "127.0.0.1:PORT"],
    ["an IPv6 literal", "[::1]:PORT"],
    ["a decimal IPv4", "2130706433"],
    ["a path after our name", "web.shop.localhost/../x:PORT"],
    ["a percent-encoded NUL after our name", "web.shop.localhost%00:PORT"],
  ])("%s is 403 (DNS rebinding), nothing forwarded", async (_, host) => {
    expect(await withHost(host.replace("PORT", String(t.port)))).toEqual([403, 0]);
  });

  test.each([["127.0.0.1:PORT"], ["[::1]:PORT"], ["2130706433"], ["0x7f.1"]])(
    "the IP literal %s is refused as one, by the proxy",
    async (host) => {
      const text = await get(t.port, host.replace("PORT", String(t.port)));
      expect(statusOf(text)).toBe(403);
      expect(text).toContain("IP addresses are not served, only names");
    },
  );

  test.each([
    ["another service's port", () => `web.shop.localhost:${up.port}`],
    ["the sentinel's port", () => `web.shop.localhost:${guard.port}`],
    ["an overlong Host", () => `${`${"a".repeat(63)}.`.repeat(5)}localhost:${t.port}`],
    ["a label over 63", () => `${"a".repeat(64)}.shop.localhost:${t.port}`],
    ["an empty label (..)", () => `web..shop.localhost:${t.port}`],
    ["a percent-encoded dot", () => `web%2eshop.localhost:${t.port}`],
    ["userinfo", () => `user@web.shop.localhost:${t.port}`],
    ["an underscore", () => `we_b.shop.localhost:${t.port}`],
    ["a port with a sign", () => `web.shop.localhost:+${t.port}`],
  ])("%s is 400, nothing forwarded", async (_, host) => {
    expect(await withHost(host())).toEqual([400, 0]);
  });

  test("two Host fields, or none, are 400", async () => {
    const two = await raw(t.port, [`GET / HTTP/1.1\r\nHost: ${web}\r\nHost: evil.example\r\n\r\n`]);
    const none = await raw(t.port, ["GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"]);
    expect([statusOf(two.text), statusOf(none.text)]).toEqual([400, 400]);
  });

  test("a second request for another Host on a kept-alive connection is cut, never forwarded", async () => {
    const before = up.requests.length;
    const r = await raw(
      t.port,
      [
        `GET /first HTTP/1.1\r\nHost: ${web}\r\n\r\n`,
        `GET /second HTTP/1.1\r\nHost: api.other.localhost:${t.port}\r\n\r\n`,
      ],
      { gapMs: 100 },
    );
    expect(r.closed).toBe(true);
    expect(up.requests.slice(before).map((q) => q.url)).toEqual(["/first"]);
  });
});

describe("request line and framing (smuggling)", () => {
  /** Sends to the recorder's name; `forwarded`: bytes of it that reached the recorder. */
  const send = async (head: string, ...rest: string[]) => {
    const before = rec.received().length;
    const r = await raw(t.port, [head.replaceAll(web, recHost), ...rest]);
    const page = r.text.includes("port-server proxy");
    return {
      status: page ? statusOf(r.text) : -1,
      forwarded: rec.received().length - before,
      closed: r.closed,
    };
  };

  test("Content-Length with Transfer-Encoding is 400, nothing forwarded", async () => {
    const r = await send(
      `POST / HTTP/1.1\r\nHost: ${web}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${web}\r\n\r\n`,
    );
    expect(r).toEqual({ status: 400, forwarded: 0, closed: true });
  });

  test("the same after a good request on the connection: cut, the first alone forwarded", async () => {
    const before = rec.received().length;
    const r = await raw(
      t.port,
      [
        `GET /ok HTTP/1.1\r\nHost: ${recHost}\r\n\r\n`,
        `POST /x HTTP/1.1\r\nHost: ${recHost}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
      ],
      { gapMs: 100 },
    );
    expect(r.closed).toBe(true);
    const got = rec.received().slice(before);
    expect(got).toStartWith("GET /ok HTTP/1.1\r\n");
    expect(got).not.toContain("POST /x");
  });

  test.each([
    ["two different lengths", "Content-Length: 3\r\nContent-Length: 4"],
    ["a signed length", "Content-Length: +3"],
    ["a length with a space inside", "Content-Length: 3 4"],
    ["a folded header", "X-A: 1\r\n Transfer-Encoding: chunked"],
    ["a space before the colon", "Transfer-Encoding : chunked"],
    ["a NUL in a value", "X-A: a\u0000b"],
    ["a bare CR in a value", "X-A: a\rb"],
  ])("%s is 400", async (_, field) => {
    expect(await send(`POST / HTTP/1.1\r\nHost: ${web}\r\n${field}\r\n\r\nabc`)).toMatchObject({
      status: 400,
      forwarded: 0,
    });
  });

  test.each([
    ["xchunked", "Transfer-Encoding: xchunked"],
    ["chunked, then identity", "Transfer-Encoding: chunked, identity"],
    ["twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"],
  ])("an unsupported transfer coding (%s) is 501", async (_, field) => {
    expect(await send(`POST / HTTP/1.1\r\nHost: ${web}\r\n${field}\r\n\r\n`)).toMatchObject({
      status: 501,
      forwarded: 0,
    });
  });

  test.each([
    ["an absolute URL to another port", `GET http://127.0.0.1:${0}/ HTTP/1.1`],
    ["an authority form", "GET 127.0.0.1:22 HTTP/1.1"],
    ["HTTP/2 on cleartext", "PRI * HTTP/2.0"],
    ["a space in the target", "GET /a b HTTP/1.1"],
  ])("%s is 400", async (_, line) => {
    const r = await send(`${line.replace(":0/", `:${guard.port}/`)}\r\nHost: ${web}\r\n\r\n`);
    expect(r).toMatchObject({ status: 400, forwarded: 0 });
  });

  test("CONNECT is 405: this is no forward proxy", async () => {
    const r = await send(`CONNECT 127.0.0.1:${guard.port} HTTP/1.1\r\nHost: ${web}\r\n\r\n`);
    expect(r).toMatchObject({ status: 405, forwarded: 0 });
  });

  test("a malformed chunked body is cut; the next request on it never goes", async () => {
    const before = rec.received().length;
    const r = await raw(t.port, [
      `POST / HTTP/1.1\r\nHost: ${recHost}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: ${recHost}\r\n\r\n`,
    ]);
    expect(r.closed).toBe(true);
    // At most the head went (or not even that, when the cut came before the connection was up).
    const got = rec.received().slice(before);
    expect(got).not.toContain("zz");
    expect(got).not.toContain("/after");
  });

  test("a head larger than 32 KiB is 431", async () => {
    const r = await send(
      `GET / HTTP/1.1\r\nHost: ${web}\r\nX-Big: ${"a".repeat(40 * 1024)}\r\n\r\n`,
    );
    expect(r).toMatchObject({ status: 431, forwarded: 0 });
  });
});

describe("slow clients", () => {
  test("a head dribbled past the deadline (slowloris) is cut with 408; others are served meanwhile", async () => {
    const slow = raw(t.port, ["GET / HTTP/1.1\r\n", "Host: ", "web", ".shop", ".localhost"], {
      gapMs: 120,
      waitMs: 3000,
    });
    expect(statusOf(await get(t.port, web))).toBe(200);
    const r = await slow;
    expect(r.closed).toBe(true);
    expect(statusOf(r.text)).toBe(408);
  });

  test("a body dribbled a byte at a time (slowloris on the body) is cut; it never reaches the service whole", async () => {
    const before = up.bodies.length;
    const slow = raw(
      t.port,
      [`POST /slow HTTP/1.1\r\nHost: ${web}\r\nContent-Length: 40\r\n\r\n`, ...Array(40).fill("a")],
      { gapMs: 60, waitMs: 3000 },
    );
    expect(statusOf(await get(t.port, web))).toBe(200);
    const r = await slow;
    expect(r.closed).toBe(true);
    expect(up.bodies.slice(before)).not.toContain("a".repeat(40));
  });

  test("a body that arrives in parts, each soon after the last, is served whole", async () => {
    const part = "b".repeat(2048);
    const r = await raw(
      t.port,
      [
        `POST /parts HTTP/1.1\r\nHost: ${web}\r\nContent-Length: ${part.length * 4}\r\nConnection: close\r\n\r\n`,
        part,
        part,
        part,
        part,
      ],
      { gapMs: 150, waitMs: 3000 },
    );
    expect(statusOf(r.text)).toBe(200);
    expect(JSON.parse(r.text.slice(r.text.indexOf("\r\n\r\n") + 4)).body).toBe(part.repeat(4));
  });

  test("a big body the service is slow to take is not cut: the clock stops while the proxy holds it back", async () => {
    // The service reads nothing for three idle timeouts, then everything.
    let got = 0;
    const slow = createServer((s) => {
      s.pause();
      setTimeout(() => s.resume(), 1000);
      s.on("data", (c: Buffer) => {
        got += c.length;
        if (got >= size) s.end(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      });
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    const size = 32 * 1024 * 1024;
    try {
      register(t.store, "sink", (slow.address() as { port: number }).port, { name: "sink.shop" });
      const head = `POST / HTTP/1.1\r\nHost: sink.shop.localhost:${t.port}\r\nContent-Length: ${size}\r\n\r\n`;
      const r = await raw(t.port, [head, Buffer.alloc(size, 120)], { waitMs: 5000 });
      expect(statusOf(r.text)).toBe(200);
      expect(got).toBeGreaterThan(size); // the head and every byte of the body
    } finally {
      slow.close();
    }
  }, 10_000);

  test("a connection that never says anything is closed", async () => {
    const r = await raw(t.port, [], { waitMs: 3000 });
    expect(r.closed).toBe(true);
  });
});
