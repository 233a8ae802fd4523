// The guards of SPEC §7 in-process: Host (DNS rebinding), Sec-Fetch-Site and Origin (cross-site
// writes), Content-Type (simple requests), body size, and the headers every response carries.
import { beforeEach, describe, expect, test } from "bun:test";
import {
  expectRejected,
  expectSecurityHeaders,
  HOST,
  ORIGIN,
  type SendOptions,
  TEST_PORT,
  type TestApp,
  testApp,
} from "../helpers/app.ts";

let t: TestApp;

beforeEach(() => {
  t = testApp();
  t.allocator.allocate({ app: "shop", instance: "main", service: "web" });
});

const NEW = { app: "shop", instance: "main", service: "db" };
const postNew = (headers: SendOptions["headers"]) =>
  t.send("POST", "/v1/allocations", { json: NEW, headers });

/** A write went through: 201, and the allocation exists. */
async function expectCreated(res: Response): Promise<void> {
  expect(res.status).toBe(201);
  expectSecurityHeaders(res);
  expect(t.store.byService(-1, "shop", "main", "db")).not.toBeNull();
}

describe("Host", () => {
  test.each([HOST, `localhost:${TEST_PORT}`, `[::1]:${TEST_PORT}`, `LocalHost:${TEST_PORT}`])(
    "%p is allowed",
    async (host) => {
      expect((await t.get("/healthz", { headers: { host } })).status).toBe(200);
      await expectCreated(await postNew({ host }));
    },
  );

  test.each([
    "evil.example",
    `evil.example:${TEST_PORT}`,
    `127.0.0.1:${TEST_PORT}.evil.example`,
    `127.0.0.1:${TEST_PORT + 1}`,
    "127.0.0.1",
    "localhost",
    `0.0.0.0:${TEST_PORT}`,
    `127.0.0.2:${TEST_PORT}`,
    `::1:${TEST_PORT}`,
  ])("%p is 403 on GET and POST", async (host) => {
    const message = `host not allowed: ${JSON.stringify(host)}`;
    await expectRejected(t, () => t.get("/v1/allocations", { headers: { host } }), 403, message);
    const body = await expectRejected(t, () => postNew({ host }), 403, message);
    expect(body.code).toBe("forbidden");
  });

  test("a missing Host is 403", async () => {
    const send = () => t.get("/v1/allocations", { headers: { host: undefined } });
    await expectRejected(t, send, 403, "host not allowed: missing");
    await expectRejected(t, () => postNew({ host: undefined }), 403, "host not allowed: missing");
  });
});

describe("Origin, without Sec-Fetch-Site", () => {
  test.each([
    "null",
    "http://localhost:3000",
    `http://127.0.0.1:${TEST_PORT}.evil.com`,
    `${ORIGIN}0`,
    `https://127.0.0.1:${TEST_PORT}`,
    `http://localhost:${TEST_PORT}`,
    "http://127.0.0.1",
  ])("%p is 403 on POST and DELETE, allowed on GET", async (origin) => {
    const message = `cross-origin request refused (Origin: ${origin})`;
    await expectRejected(t, () => postNew({ origin }), 403, message);
    const del = () => t.send("DELETE", "/v1/allocations/1", { headers: { origin } });
    await expectRejected(t, del, 403, message);
    const filter = () =>
      t.send("DELETE", "/v1/allocations", { json: { app: "shop" }, headers: { origin } });
    await expectRejected(t, filter, 403, message);
    const res = await t.get("/v1/allocations", { headers: { origin } });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveLength(1);
  });

  test("exactly our own origin is allowed", async () => {
    await expectCreated(await postNew({ origin: ORIGIN }));
  });

  test("no Origin and no Sec-Fetch-Site (curl, portctl) is allowed", async () => {
    await expectCreated(await postNew({}));
  });
});

describe("Sec-Fetch-Site", () => {
  test.each(["cross-site", "same-site"])(
    "%p is 403 on POST and DELETE, allowed on GET",
    async (site) => {
      const headers = { "sec-fetch-site": site };
      const message = `cross-site request refused (Sec-Fetch-Site: ${site})`;
      await expectRejected(t, () => postNew(headers), 403, message);
      await expectRejected(
        t,
        () => t.send("DELETE", "/v1/allocations/1", { headers }),
        403,
        message,
      );
      expect((await t.get("/v1/allocations", { headers })).status).toBe(200);
      expect((await t.get("/v1/ports/3000", { headers })).status).toBe(200);
    },
  );

  test.each(["same-origin", "none"])("%p is allowed", async (site) => {
    await expectCreated(await postNew({ "sec-fetch-site": site }));
  });

  test("it decides before Origin, as in Go's CrossOriginProtection", async () => {
    const body = await expectRejected(
      t,
      () => postNew({ "sec-fetch-site": "cross-site", origin: ORIGIN }),
      403,
    );
    expect(body.error).toContain("Sec-Fetch-Site");
    await expectCreated(await postNew({ "sec-fetch-site": "same-origin", origin: "null" }));
  });
});

describe("Content-Type", () => {
  const form = () => {
    const f = new FormData();
    f.set("app", "shop");
    return f;
  };
  test.each<[string, () => SendOptions]>([
    [
      "text/plain",
      () => ({ body: JSON.stringify(NEW), headers: { "content-type": "text/plain" } }),
    ],
    ["a string body with no type", () => ({ body: JSON.stringify(NEW) })],
    [
      "form-urlencoded",
      () => ({ body: new URLSearchParams(NEW), headers: { "content-type": undefined } }),
    ],
    ["multipart", () => ({ body: form() })],
    [
      "application/jsonp",
      () => ({ body: JSON.stringify(NEW), headers: { "content-type": "application/jsonp" } }),
    ],
  ])("POST with %s is 415", async (_, opts) => {
    const body = await expectRejected(
      t,
      () => t.send("POST", "/v1/allocations", opts()),
      415,
      "Content-Type must be application/json",
    );
    expect(body.code).toBe("unsupported_media_type");
  });

  test("DELETE with a text/plain filter is 415", async () => {
    const send = () =>
      t.send("DELETE", "/v1/allocations", {
        body: '{"app":"shop"}',
        headers: { "content-type": "text/plain" },
      });
    await expectRejected(t, send, 415, "Content-Type must be application/json");
  });

  test.each(["application/json; charset=utf-8", "Application/JSON"])(
    "%p is accepted",
    async (type) => {
      await expectCreated(
        await t.send("POST", "/v1/allocations", {
          body: JSON.stringify(NEW),
          headers: { "content-type": type },
        }),
      );
    },
  );

  test("a bodiless DELETE /v1/allocations/{id} needs no Content-Type", async () => {
    const res = await t.send("DELETE", "/v1/allocations/1");
    expect(res.status).toBe(200);
    expect(t.store.count()).toBe(0);
  });

  test("a bodiless POST is 400", async () => {
    await expectRejected(
      t,
      () => t.send("POST", "/v1/allocations"),
      400,
      "request body is not valid JSON",
    );
  });
});

describe("body size", () => {
  const LIMIT = 64 * 1024;
  const padded = (size: number) => {
    const text = JSON.stringify(NEW);
    return `${text.slice(0, -1)}${" ".repeat(size - text.length)}}`;
  };
  const send = (body: string) =>
    t.send("POST", "/v1/allocations", { body, headers: { "content-type": "application/json" } });

  test("64 KiB exactly is accepted", async () => {
    expect(padded(LIMIT)).toHaveLength(LIMIT);
    await expectCreated(await send(padded(LIMIT)));
  });

  test("one byte more is 413", async () => {
    const body = await expectRejected(
      t,
      () => send(padded(LIMIT + 1)),
      413,
      "request body is larger than 64 KiB",
    );
    expect(body.code).toBe("payload_too_large");
  });

  test("a large DELETE filter is 413 and deletes nothing", async () => {
    const body = JSON.stringify({ app: "shop", pad: "x".repeat(LIMIT) });
    const del = () =>
      t.send("DELETE", "/v1/allocations", {
        body,
        headers: { "content-type": "application/json" },
      });
    await expectRejected(t, del, 413);
  });
});

describe("response headers", () => {
  test.each<[string, string, SendOptions?]>([
    ["GET", "/healthz"],
    ["GET", "/v1/allocations"],
    ["GET", "/v1/ports/3000"],
    ["POST", "/v1/allocations", { json: NEW }],
    ["DELETE", "/v1/allocations", { json: { app: "shop" } }],
    ["DELETE", "/v1/allocations/1"],
    ["GET", "/nowhere"],
    ["HEAD", "/healthz"],
    // A default for opts: bun would take a third parameter that a row leaves out for a done
    // callback, and time out once the response takes a turn of the event loop.
  ])("%s %s carries nosniff and CORP, and no CORS", async (method, path, opts = {}) => {
    const res = await t.send(method, path, opts);
    expect(res.status).toBeLessThan(500);
    expectSecurityHeaders(res);
  });

  test("a CORS preflight gets no Access-Control-* headers", async () => {
    const res = await t.send("OPTIONS", "/v1/allocations", {
      headers: {
        origin: "http://localhost:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(res.status).toBe(405);
    expectSecurityHeaders(res);
  });

  test("a 503 carries them too", async () => {
    t.store.close();
    const res = await t.get("/healthz");
    expect(res.status).toBe(503);
    expectSecurityHeaders(res);
  });
});
