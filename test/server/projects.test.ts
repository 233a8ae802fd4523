// /v1/projects in-process (every response checked against the served document): claim,
// list, release; a Compose project name another checkout holds is a 409 project_taken with
// the holder; bad names and fields are 400; and POST /v1/allocations with count.
import { beforeEach, describe, expect, test } from "bun:test";
import { listProjects } from "../../src/core/projects.ts";
import { expectRejected, type TestApp, testApp } from "../helpers/app.ts";

type Json = Record<string, unknown>;
const body = async <T = Json>(res: Response) => ({
  status: res.status,
  body: (await res.json()) as T,
});

const WORK = "/w/shop";
const REVIEW = "/r/shop";
let t: TestApp;
let present: Set<string>;
beforeEach(() => {
  present = new Set([WORK, REVIEW]);
  t = testApp({ checkoutExists: (p) => present.has(p), range: { lo: 3000, hi: 3019 } });
});

const claim = (json: Json) => t.send("POST", "/v1/projects", { json });
const shop = (checkout: string, extra: Json = {}) => ({
  name: "shop",
  app: "shop",
  instance: "main",
  checkout,
  ...extra,
});

describe("POST /v1/projects", () => {
  test("201 for a new name, 200 for the same checkout, 201 with another name for a second one", async () => {
    const a = await body(await claim(shop(WORK)));
    expect(a).toMatchObject({
      status: 201,
      body: { name: "shop", natural: "shop", checkout: WORK },
    });
    expect(await body(await claim(shop(WORK)))).toEqual({ status: 200, body: a.body });
    const b = await body(await claim(shop(REVIEW, { instance: "review" })));
    expect(b).toMatchObject({ status: 201, body: { name: "shop-review", checkout: REVIEW } });
    const list = await body<Json[]>(await t.get("/v1/projects?app=shop"));
    expect(list.body.map((p) => p.name)).toEqual(["shop", "shop-review"]);
  });

  test("an explicit name held elsewhere: 409 project_taken naming the holder; force takes it", async () => {
    await claim(shop(WORK));
    const res = await claim(shop(REVIEW, { explicit: true }));
    const r = await body(res);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      code: "project_taken",
      checkout: REVIEW,
      project: { name: "shop", checkout: WORK },
    });
    const forced = await body(await claim(shop(REVIEW, { explicit: true, force: true })));
    expect(forced).toMatchObject({
      status: 200,
      body: { name: "shop", checkout: REVIEW, taken_over_from: WORK },
    });
  });

  test.each([
    [{ ...shop(WORK), name: "Shop" }, /^name must be a Compose project name/],
    [{ ...shop(WORK), name: "-x" }, /^name must be a Compose project name/],
    [{ ...shop(WORK), name: "a".repeat(129) }, /^name must be a Compose project name/],
    [{ ...shop(WORK), checkout: "shop" }, /^checkout must be an absolute path/],
    [{ ...shop(WORK), extra: 1 }, /unknown field: extra/],
    [{ ...shop(WORK), force: "yes" }, /^force must be true or false/],
  ])("400 for %j", async (json, error) => {
    await expectRejected(t, () => claim(json), 400, error);
    expect(listProjects(t.store)).toEqual([]);
  });
});

describe("DELETE /v1/projects/{id}", () => {
  test("frees the name (an event), then 404", async () => {
    const a = await body(await claim(shop(WORK)));
    const del = await t.send("DELETE", `/v1/projects/${a.body.id}`);
    expect(await body(del)).toEqual({ status: 200, body: { status: "deleted" } });
    expect(listProjects(t.store)).toEqual([]);
    const events = await body<Json[]>(await t.get("/v1/events?app=shop"));
    expect(events.body.map((e) => [e.kind, e.project, e.port])).toEqual([
      ["project_released", "shop", 0],
      ["project_allocated", "shop", 0],
    ]);
    await expectRejected(
      t,
      () => t.send("DELETE", `/v1/projects/${a.body.id}`),
      404,
      "project not found",
    );
  });
});

describe("POST /v1/allocations with count", () => {
  test("201 with the block; all or nothing; 400 for a count out of range", async () => {
    const r = await body<Json & { block: Json[] }>(
      await t.post({ app: "shop", instance: "main", service: "cache", count: 3 }),
    );
    expect(r.status).toBe(201);
    expect(r.body.port).toBe(3000);
    expect(r.body.block.map((a) => [a.service, a.port, a.block_id])).toEqual([
      ["cache", 3000, r.body.id],
      ["cache-2", 3001, r.body.id],
      ["cache-3", 3002, r.body.id],
    ]);
    await expectRejected(
      t,
      () => t.post({ app: "shop", instance: "main", service: "q", port: 3001, count: 2 }),
      409,
    );
    for (const count of [0, 1025, 1.5, "2"]) {
      await expectRejected(
        t,
        () => t.post({ app: "shop", instance: "main", service: "q", count }),
        400,
        /^count must be an integer between 1 and 1024/,
      );
    }
    // Released together, whichever id is named.
    const second = r.body.block[1] as Json;
    await t.send("DELETE", `/v1/allocations/${second.id}`);
    expect(t.store.count()).toBe(0);
  });
});
