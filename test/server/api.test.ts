// The routes of SPEC §4 in-process: every status code and error message, and for every error
// that the registry did not change and the server stays healthy (expectRejected).
import { beforeEach, describe, expect, test } from "bun:test";
import type { Allocation, Row } from "../../src/core/model.ts";
import { expectRejected, expectSecurityHeaders, type TestApp, testApp } from "../helpers/app.ts";
import { CREATED_AT, FAKE_OWNER, shown, UNOWNED } from "../helpers/fakes.ts";

let t: TestApp;
/** Seeded: shop/main/web on 3000, shop/main/db on 5432, blog/dev/web on 3001. */
let web: Allocation;
let db: Allocation;
let blog: Allocation;

beforeEach(() => {
  t = testApp();
  web = shown(t.allocator.allocate({ app: "shop", instance: "main", service: "web" }).allocation);
  db = shown(
    t.allocator.allocate({
      app: "shop",
      instance: "main",
      service: "db",
      port: 5432,
    }).allocation,
  );
  blog = shown(t.allocator.allocate({ app: "blog", instance: "dev", service: "web" }).allocation);
});

type Json = Record<string, unknown>;
const json = async <T = Json>(res: Response) => ({
  status: res.status,
  body: (await res.json()) as T,
});
const named = (service: string, extra: Record<string, unknown> = {}) => ({
  app: "shop",
  instance: "feature",
  service,
  ...extra,
});

describe("GET /healthz", () => {
  test("200 with status, pid, version, range, exclusions, the database and whose it is", async () => {
    const res = await t.get("/healthz");
    expectSecurityHeaders(res);
    expect(await json(res)).toEqual({
      status: 200,
      body: {
        status: "ok",
        pid: 777,
        version: "test",
        range: "3000-3009",
        exclude: [],
        db: ":memory:",
        // This app has no proxy (server/main.ts starts one beside the API).
        proxy: { port: null, setting: "off", addresses: [] },
        uid: process.getuid?.() ?? 0,
        user: Bun.spawnSync(["id", "-un"]).stdout.toString().trim(),
      },
    });
  });

  test("?check=integrity adds the database's quick_check verdict; another check is 400", async () => {
    const { status, body } = await json(await t.get("/healthz?check=integrity"));
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", integrity: "ok" });
    const bad = await json(await t.get("/healthz?check=everything"));
    expect(bad).toEqual({
      status: 400,
      body: { error: "check must be integrity", code: "bad_request" },
    });
    expect((await json(await t.get("/healthz"))).body.integrity).toBeUndefined();
  });

  test.each([
    ["?check=quick", "check must be integrity"],
    ["?verbose=1", "unknown field: verbose"],
  ])("400 for %p: the query is as strict as the document says", async (query, message) => {
    await expectRejected(t, () => t.get(`/healthz${query}`), 400, message);
  });

  test("503 once the database is closed", async () => {
    t.store.close();
    const { status, body } = await json(await t.get("/healthz"));
    expect(status).toBe(503);
    expect(body).toMatchObject({ code: "storage" });
    expect(body.error).toStartWith("database unusable: ");
  });

  test("reads and writes answer the same 503 storage as /healthz once the database is closed", async () => {
    t.store.close();
    for (const res of [
      await t.get("/v1/allocations"),
      await t.get("/v1/ports/3000"),
      await t.post(named("web")),
      await t.send("DELETE", "/v1/allocations/1"),
      await t.send("DELETE", "/v1/allocations", { json: { app: "shop" } }),
    ]) {
      const { status, body } = await json(res);
      expect({ status, code: body.code }).toEqual({ status: 503, code: "storage" });
      expect(body.error).toMatch(/^database (unusable|error): .*closed/i);
    }
  });

  test("503 once the table is gone", async () => {
    t.store.db.run("DROP TABLE allocations");
    const { status, body } = await json(await t.get("/healthz"));
    expect(status).toBe(503);
    expect(body.error).toContain("no such table: allocations");
  });

  test("503 when quick_check itself fails: the same storage error as every route", async () => {
    t.store.quickCheck = () => String(t.store.db.query("SELECT * FROM nosuch").get());
    const { status, body } = await json(await t.get("/healthz?check=integrity"));
    expect(status).toBe(503);
    expect(body).toMatchObject({ code: "storage" });
    expect(body.error).toBe("database unusable: no such table: nosuch");
    expect((await t.get("/healthz")).status).toBe(200);
  });
});

describe("POST /v1/allocations", () => {
  test("201 with exactly the allocation's fields", async () => {
    const res = await t.post(named("web"));
    expectSecurityHeaders(res);
    const { status, body } = await json(res);
    expect(status).toBe(201);
    expect(Object.keys(body).sort()).toEqual(
      [
        "app",
        "created_at",
        "id",
        "instance",
        "port",
        "service",
        "checkout",
        "last_seen",
        "lease_pid",
        "lease_started_at",
        "block_id",
        "name",
        "url",
        "lease_session",
      ].sort(),
    );
    expect(body).toEqual({
      id: 4,
      ...named("web"),
      port: 3002,
      created_at: CREATED_AT,
      ...UNOWNED,
      // shop/main/web has the short form already: this instance's web carries its label.
      name: "web.feature.shop.localhost",
      url: null,
    });
    expect(shown(t.store.list().at(-1) as Row)).toEqual(body as Allocation);
  });

  test("an explicit port is granted as asked; port 0 auto-assigns", async () => {
    expect(await json(await t.post(named("pg", { port: 15432 })))).toMatchObject({
      status: 201,
      body: { port: 15432 },
    });
    expect(await json(await t.post(named("web", { port: 0 })))).toMatchObject({
      status: 201,
      body: { port: 3002 },
    });
  });

  test("auto-assign skips ports bound on the machine", async () => {
    t.probe.bound.add(3002);
    expect((await json(await t.post(named("web")))).body.port).toBe(3003);
  });

  test("names are trimmed; 128 characters are allowed", async () => {
    const long = "x".repeat(128);
    const { status, body } = await json(
      await t.post({ app: "  shop ", instance: "\tfeature\n", service: long }),
    );
    expect(status).toBe(201);
    expect(body).toMatchObject({ app: "shop", instance: "feature", service: long });
  });

  test("names are stored in NFC: café typed precomposed or with a combining accent is one name", async () => {
    const nfd = "cafe\u0301";
    const first = await json<Allocation>(
      await t.post({ app: nfd, instance: "main", service: "web" }),
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ app: "caf\u00e9" });
    const again = await json(await t.post({ app: "caf\u00e9", instance: "main", service: "web" }));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "service_allocated", holder: { id: first.body.id } });
    const found = await json<Allocation[]>(
      await t.get(`/v1/allocations?app=${encodeURIComponent(nfd)}`),
    );
    expect(found.body).toEqual([first.body]);
  });

  test("an invisible character is refused even at an edge, where trimming would drop it", async () => {
    for (const app of ["\ufeffshop", "shop\u2028", "shop\u{e0041}"]) {
      const { status, body } = await json(await t.post({ app, instance: "main", service: "web" }));
      expect({ status, code: body.code }).toEqual({ status: 400, code: "bad_request" });
    }
    expect((await json<Allocation[]>(await t.get("/v1/allocations"))).body).toEqual([
      web,
      db,
      blog,
    ]);
  });

  const PORT_MSG = "port must be an integer between 1 and 65535";
  test.each<[string, unknown, string]>([
    ["blank app", named("web", { app: "   " }), "app must not be empty"],
    ["empty service", named(""), "service must not be empty"],
    ["129-char instance", named("web", { instance: "y".repeat(129) }), /128/.source],
    ["NUL in a name", named("we\u0000b"), "service must not contain control characters"],
    ["newline inside", named("we\nb"), "service must not contain control characters"],
    ["DEL", named("web\u007f"), "service must not contain control characters"],
    ["C1 control", named("web\u0085x"), "service must not contain control characters"],
    ["RTL override", named("s\u202ex"), "service must not contain U\\+202E \\(an invisible"],
    ["bidi isolate", named("s\u2066x"), "service must not contain U\\+2066 \\(an invisible"],
    ["missing app", { instance: "main", service: "web" }, "app is required"],
    ["numeric name", named("web", { app: 5 }), "app must be a string"],
    ['port "80"', named("web", { port: "80" }), PORT_MSG],
    ["port 1.5", named("web", { port: 1.5 }), PORT_MSG],
    ["port -1", named("web", { port: -1 }), PORT_MSG],
    ["port 70000", named("web", { port: 70000 }), PORT_MSG],
    ["port 65536", named("web", { port: 65536 }), PORT_MSG],
    ["port null", named("web", { port: null }), PORT_MSG],
    ["port true", named("web", { port: true }), PORT_MSG],
    ["a misspelt field", named("web", { prot: 5432 }), "unknown field: prot"],
    ["an array", [named("web")], "expected object"],
    ["a string", "web", "expected object"],
    ["null", null, "expected object"],
  ])("400 for %s", async (_, body, message) => {
    const res = await expectRejected(t, () => t.post(body), 400, new RegExp(message));
    expect(res.code).toBe("bad_request");
  });

  test.each<[string, NonNullable<RequestInit["body"]>, string]>([
    ["invalid JSON", '{"app": "shop",', "request body is not valid JSON"],
    ["an empty body", "", "request body is not valid JSON"],
    [
      "invalid UTF-8",
      new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]),
      "request body is not valid UTF-8",
    ],
  ])("400 for %s", async (_, body, message) => {
    const send = () =>
      t.send("POST", "/v1/allocations", { body, headers: { "content-type": "application/json" } });
    await expectRejected(t, send, 400, message);
  });

  test("409 port already allocated, with the holder", async () => {
    const body = await expectRejected(
      t,
      () => t.post(named("pg", { port: 5432 })),
      409,
      "port already allocated",
    );
    expect(body).toEqual({ error: "port already allocated", code: "port_allocated", holder: db });
  });

  test("409 service already allocated, with the holder", async () => {
    for (const port of [undefined, 4000, 3000]) {
      const body = await expectRejected(
        t,
        () => t.post({ app: "shop", instance: "main", service: "web", port }),
        409,
        "service already allocated",
      );
      expect(body).toEqual({
        error: "service already allocated",
        code: "service_allocated",
        holder: web,
      });
    }
  });

  test("409 port in use on system, with the process where known", async () => {
    t.probe.bound.add(8080);
    const body = await expectRejected(t, () => t.post(named("web", { port: 8080 })), 409);
    expect(body).toEqual({
      error: "port in use on system",
      code: "port_in_use",
      port: 8080,
      system: { in_use: true, ...FAKE_OWNER },
    });
  });

  test("409 when the range is exhausted", async () => {
    t = testApp({ range: { lo: 3000, hi: 3001 }, bound: [3001] });
    await t.post(named("web"));
    await expectRejected(t, () => t.post(named("db")), 409, "no free port left in range 3000-3001");
  });

  test("?reuse=true returns the existing allocation with 200", async () => {
    const before = t.store.list();
    const res = await t.post({ app: "shop", instance: "main", service: "web" }, "?reuse=true");
    expect(await json(res)).toEqual({ status: 200, body: web });
    expect(t.store.list()).toEqual(before);
  });

  test.each([
    ["?reuse=1", "reuse must be true or false"],
    ["?reuse=0", "reuse must be true or false"],
    ["?reuse=", "reuse must be true or false"],
    ["?adopt=yes", "adopt must be true or false"],
    ["?adopt=TRUE", "adopt must be true or false"],
    ["?reus=true", "unknown field: reus"],
  ])("400 for %p: the flags are real booleans, as the document says", async (query, message) => {
    await expectRejected(t, () => t.post(named("web"), query), 400, message);
  });

  test("?reuse=false is the same as no flag", async () => {
    const send = () => t.post({ app: "shop", instance: "main", service: "web" }, "?reuse=false");
    await expectRejected(t, send, 409, "service already allocated");
  });

  test("?reuse=true creates with 201 when the service is new", async () => {
    const { status, body } = await json(await t.post(named("web"), "?reuse=true"));
    expect(status).toBe(201);
    expect(shown(t.store.byService(-1, "shop", "feature", "web") as Row)).toEqual(
      body as Allocation,
    );
  });

  test("?reuse=true with a different port is 409 service already allocated", async () => {
    const send = () =>
      t.post({ app: "shop", instance: "main", service: "web", port: 4000 }, "?reuse=true");
    expect((await expectRejected(t, send, 409, "service already allocated")).holder).toEqual(web);
  });

  test("?adopt=true records an explicit port a process already listens on", async () => {
    t.probe.bound.add(8080);
    const { status, body } = await json(await t.post(named("web", { port: 8080 }), "?adopt=true"));
    expect(status).toBe(201);
    expect(body).toEqual({
      id: 4,
      ...named("web"),
      port: 8080,
      created_at: CREATED_AT,
      ...UNOWNED,
      name: "web.feature.shop.localhost",
      url: null,
    });
  });

  test("?adopt=true never auto-assigns a bound port nor takes a held one", async () => {
    t.probe.bound.add(3002);
    expect((await json(await t.post(named("web"), "?adopt=true"))).body.port).toBe(3003);
    const send = () => t.post(named("pg", { port: 5432 }), "?adopt=true");
    expect((await expectRejected(t, send, 409, "port already allocated")).holder).toEqual(db);
  });

  test.each(["reuse", "adopt"])("?%s=maybe is 400", async (flag) => {
    const send = () => t.post(named("web"), `?${flag}=maybe`);
    await expectRejected(t, send, 400, `${flag} must be true or false`);
  });
});

describe("GET /v1/allocations", () => {
  test.each([
    ["", () => [web, db, blog]],
    ["?app=shop", () => [web, db]],
    ["?instance=dev", () => [blog]],
    ["?service=web", () => [web, blog]],
    ["?app=shop&instance=main&service=db", () => [db]],
    ["?app=%20shop%20", () => [web, db]],
    ["?app=&service=web", () => [web, blog]],
    ["?port=&app=blog", () => [blog]],
    ["?app=nobody", () => []],
    ["?port=5432", () => [db]],
    ["?app=blog&port=5432", () => []],
  ])("%p, ordered by id", async (query, expected) => {
    expect(await json<Allocation[]>(await t.get(`/v1/allocations${query}`))).toEqual({
      status: 200,
      body: expected(),
    });
  });

  test("[] when the registry is empty", async () => {
    t = testApp();
    const res = await t.get("/v1/allocations");
    expect(await json<Allocation[]>(res)).toEqual({ status: 200, body: [] });
  });

  test.each([
    ["?app=a%00b", "app must not contain control characters"],
    [`?service=${"s".repeat(129)}`, "service must be at most 128 characters"],
    ["?instance=%20%20", "instance must not be empty"],
    ["?port=abc", "port must be an integer between 1 and 65535"],
    ["?port=70000", "port must be an integer between 1 and 65535"],
    ["?port=0", "port must be an integer between 1 and 65535"],
    ["?port=65536", "port must be an integer between 1 and 65535"],
    ["?port=05432", "port must be an integer between 1 and 65535"],
    ["?ap=shop", "unknown field: ap"],
  ])("400 for %p", async (query, message) => {
    await expectRejected(t, () => t.get(`/v1/allocations${query}`), 400, message);
  });
});

describe("GET /v1/ports/{port}", () => {
  const FREE = { in_use: false };

  test("a free port has no holder key", async () => {
    const { status, body } = await json(await t.get("/v1/ports/4000"));
    expect({ status, body }).toEqual({
      status: 200,
      body: { port: 4000, available: true, system: FREE },
    });
    expect("holder" in body).toBe(false);
  });

  test("a held port names its holder", async () => {
    expect(await json(await t.get("/v1/ports/5432"))).toEqual({
      status: 200,
      body: {
        port: 5432,
        available: false,
        holder: db,
        system: FREE,
      },
    });
  });

  test("a port bound on the machine is not available, and says by whom", async () => {
    t.probe.bound.add(8080);
    expect(await json(await t.get("/v1/ports/8080"))).toEqual({
      status: 200,
      body: { port: 8080, available: false, system: { in_use: true, ...FAKE_OWNER } },
    });
  });

  test.each(["abc", "0", "65536", "-1", "1e3", "80.0", "123456", "03000", "00080"])(
    "400 for %p",
    async (port) => {
      await expectRejected(
        t,
        () => t.get(`/v1/ports/${port}`),
        400,
        "port must be an integer between 1 and 65535",
      );
    },
  );
});

describe("DELETE /v1/allocations/{id}", () => {
  test("200 deleted, then 404 not found", async () => {
    const res = await t.send("DELETE", `/v1/allocations/${db.id}`);
    expect(await json(res)).toEqual({ status: 200, body: { status: "deleted" } });
    expect(t.store.list().map(shown)).toEqual([web, blog]);
    const body = await expectRejected(
      t,
      () => t.send("DELETE", `/v1/allocations/${db.id}`),
      404,
      "allocation not found",
    );
    expect(body.code).toBe("not_found");
  });

  test.each(["abc", "-3", "0", "000", "1.5", "+1", "1e2", "1234567890123456"])(
    "400 for id %p",
    async (id) => {
      await expectRejected(
        t,
        () => t.send("DELETE", `/v1/allocations/${id}`),
        400,
        "id must be a positive integer",
      );
    },
  );
});

describe("DELETE /v1/allocations (filter)", () => {
  const del = (json?: unknown) => t.send("DELETE", "/v1/allocations", { json });

  test.each<[Record<string, unknown>, () => Allocation[]]>([
    [{ app: "shop" }, () => [blog]],
    [{ service: "web" }, () => [db]],
    [{ app: " shop ", instance: "main", service: "db" }, () => [web, blog]],
    [{ port: 3001 }, () => [web, db]],
    [{ app: "nobody" }, () => [web, db, blog]],
  ])("%p deletes what matches all fields", async (filter, left) => {
    const expected = 3 - left().length;
    expect(await json(await del(filter))).toEqual({ status: 200, body: { deleted: expected } });
    expect(t.store.list().map(shown)).toEqual(left());
  });

  test.each<[string, unknown, string]>([
    ["{}", {}, "at least one of app, instance, service, port, checkout is required"],
    ["unknown fields only", { everything: true }, "unknown field: everything"],
    ["a misspelt field", { app: "shop", instanc: "main" }, "unknown field: instanc"],
    ["a blank name", { app: " " }, "app must not be empty"],
    ["a port string", { port: "3000" }, "port must be an integer between 1 and 65535"],
    ["null", null, "expected object"],
  ])("400 for %s", async (_, filter, message) => {
    await expectRejected(t, () => del(filter), 400, new RegExp(message));
  });

  test("no body is refused", async () => {
    const body = await expectRejected(t, () => t.send("DELETE", "/v1/allocations"), 400);
    expect(body.error).toBe("request body is not valid JSON");
  });
});

describe("unknown routes and methods", () => {
  test.each(["/index.html", "/v1", "/v1/allocation", "/v2/allocations", "/v1/ports", "/healthz/x"])(
    "404 JSON for %p",
    async (path) => {
      expect(await expectRejected(t, () => t.get(path), 404, "not found")).toMatchObject({
        code: "not_found",
      });
    },
  );

  test.each([
    ["PUT", "/healthz", "GET, HEAD"],
    ["POST", "/healthz", "GET, HEAD"],
    ["PATCH", "/v1/allocations", "GET, HEAD, POST, DELETE"],
    ["PUT", "/v1/allocations/1", "DELETE"],
    ["GET", "/v1/allocations/1", "DELETE"],
    ["DELETE", "/v1/ports/3000", "GET, HEAD"],
    ["OPTIONS", "/v1/allocations", "GET, HEAD, POST, DELETE"],
    ["POST", "/v1/openapi.json", "GET, HEAD"],
  ])("405 JSON for %s %s, with Allow: %s (RFC 9110)", async (method, path, allow) => {
    const body = await expectRejected(t, () => t.send(method, path), 405, "method not allowed");
    expect(body.code).toBe("method_not_allowed");
    expect((await t.send(method, path)).headers.get("allow")).toBe(allow);
  });
});
