// Service names as environment variables: accents are transliterated, and a name that cannot be
// one is refused when it is allocated, so `portctl env` never fails on it later.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { envKey, envKeyProblem } from "../../src/core/envkey.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { shown } from "../helpers/fakes.ts";

describe("envKey", () => {
  test.each([
    ["postgres", "POSTGRES_PORT"],
    ["web-api", "WEB_API_PORT"],
    ["3d", "_3D_PORT"],
    ["café-api", "CAFE_API_PORT"],
    ["Straße", "STRASSE_PORT"],
    ["smørrebrød", "SMORREBROD_PORT"],
    ["Łódź", "LODZ_PORT"],
    ["ﬁle", "FILE_PORT"],
    ["Ｗｅｂ", "WEB_PORT"],
    ["数据库-db", "____DB_PORT"],
  ])("%s → %s", (service, key) => {
    expect(envKey(service)).toBe(key);
    expect(envKeyProblem(service)).toBeUndefined();
  });

  test.each(["数据库", "缓存", "🚀", "---", "Ωμέγα"])("%s has no usable key", (service) => {
    expect(envKeyProblem(service)).toContain(`portctl env would print ${envKey(service)}`);
  });
});

describe("the daemon refuses, at allocate and import time, a name env could not print", () => {
  let t: TestApp;
  beforeEach(() => {
    t = testApp();
  });
  afterEach(() => t.store.close());
  const body = (service: string) => ({ app: "shop", instance: "main", service });

  test("no usable key: 400 through the raw API, whoever the client, nothing recorded", async () => {
    const res = await t.post(body("数据库"));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error:
        "service '数据库' cannot be an environment variable: it has no Latin letter or digit (portctl env would print ____PORT); choose a name that has one",
      code: "bad_request",
    });
    expect(t.store.list()).toEqual([]);
  });

  test("accents alone are a key: éé is allocated as EE_PORT, and echoed in the document's shape", async () => {
    const first = await t.post(body("éé"));
    expect(first.status).toBe(201);
    // An import conflict echoes the row: the response must fit the document too (t.send checks
    // it), though the document asks requests for an ASCII letter.
    const row = { ...body("éé"), port: 3999, created_at: "2026-01-01T00:00:00Z" };
    const clash = await t.send("POST", "/v1/import", { json: [row] });
    expect(clash.status).toBe(409);
    expect(t.store.list().map(shown)).toEqual([await first.json()]);
  });

  test("a second name with the same key in one app and instance: 409 env_key_taken with the holder", async () => {
    const first = await (await t.post(body("web-api"))).json();
    const res = await t.post(body("web_api"));
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: `service web_api would share WEB_API_PORT with shop/main/web-api (port ${first.port}); choose another name`,
      code: "env_key_taken",
      holder: first,
      key: "WEB_API_PORT",
    });
    // Another instance is another set of variables.
    expect((await t.post({ ...body("web_api"), instance: "feature" })).status).toBe(201);
    expect(t.store.list()).toHaveLength(2);
  });

  test("import refuses both, all or nothing, naming the reason", async () => {
    await t.post(body("web-api"));
    const rows = (service: string, port: number) => ({
      ...body(service),
      port,
      created_at: "2026-01-01T00:00:00Z",
    });
    const clash = await t.send("POST", "/v1/import", {
      json: [rows("db", 3900), rows("web_api", 3901)],
    });
    expect(clash.status).toBe(409);
    const { conflicts } = (await clash.json()) as { conflicts: { reason: string }[] };
    expect(conflicts.map((c) => c.reason)).toEqual([
      expect.stringContaining("web_api would share WEB_API_PORT with shop/main/web-api"),
    ]);
    const twins = await t.send("POST", "/v1/import", {
      json: [rows("a-b", 3902), rows("a_b", 3903)],
    });
    expect(twins.status).toBe(409);
    const noKey = await t.send("POST", "/v1/import", { json: [rows("缓存", 3904)] });
    expect(noKey.status).toBe(400);
    expect(t.store.list().map((a) => a.service)).toEqual(["web-api"]);
  });
});

describe("against a daemon", () => {
  let f: CliFixture;
  beforeAll(async () => {
    f = await cliFixture("myapp");
  });
  afterAll(() => f.close());

  test("two CJK names: neither recorded, and env still works", async () => {
    const cafe = await f.alloc("--service", "café-api");
    for (const service of ["数据库", "缓存"]) {
      const run = await f.run(["allocate", "--service", service, "--json"]);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.out.join("\n"))).toMatchObject({ code: "bad_request" });
    }
    const human = await f.run(["allocate", "--service", "数据库"]);
    expect(human.err).toEqual([
      "error: service '数据库' cannot be an environment variable: it has no Latin letter or digit (portctl env would print ____PORT); choose a name that has one",
    ]);
    // café-api's twin: the same variable, and so refused.
    const twinOfCafe = await f.run(["allocate", "--service", "cafe_api", "--json"]);
    expect(JSON.parse(twinOfCafe.out.join("\n"))).toMatchObject({
      code: "env_key_taken",
      key: "CAFE_API_PORT",
      holder: cafe,
    });
    const dash = await f.alloc("--service", "web-api");
    const twin = await f.run(["allocate", "--service", "web_api"]);
    expect(twin).toEqual({
      code: 1,
      out: [],
      err: [
        `error: service web_api would share WEB_API_PORT with myapp/default/web-api (port ${dash.port}); choose another name`,
      ],
    });
    expect(await f.allocations()).toEqual([cafe, dash]);
    expect(await f.run(["env"])).toEqual({
      code: 0,
      out: [`CAFE_API_PORT=${cafe.port}`, `WEB_API_PORT=${dash.port}`],
      err: [],
    });
  });
});
