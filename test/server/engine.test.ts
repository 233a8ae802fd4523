// The API with a fake container engine: the engine is asked only about a listening port an
// engine's proxy holds (never for a free port, nor a plain process's), and what it says reaches
// GET /v1/ports/N, a 409 port_in_use, /v1/listeners and prune, all checked against the served
// OpenAPI document (testApp).
import { describe, expect, test } from "bun:test";
import { testApp } from "../helpers/app.ts";
import { fakeEngine } from "../helpers/fakes.ts";

const SHOP_DB = {
  id: "c".repeat(64),
  name: "shop-db-1",
  project: "shop",
  working_dir: "/home/me/work/shop",
  service: "db",
};
const PROXY = { pid: 99, process: "docker-proxy" };

function app() {
  const engine = fakeEngine([[5432, SHOP_DB]]);
  const t = testApp({ engine, range: { lo: 5430, hi: 5439 } });
  t.probe.bound.add(5432);
  t.probe.owners.set(5432, PROXY);
  return { t, engine };
}

describe("GET /v1/ports/N and the engine", () => {
  test("a port an engine's proxy holds: the container publishing it, from one question", async () => {
    const { t, engine } = app();
    const res = await t.get("/v1/ports/5432");
    expect(await res.json()).toEqual({
      port: 5432,
      available: false,
      system: { in_use: true, ...PROXY, container: SHOP_DB },
    });
    expect(engine.asked).toEqual([5432]);
  });

  test("a free port, and one a plain process holds, never reach the engine", async () => {
    const { t, engine } = app();
    t.probe.bound.add(5433); // FAKE_OWNER: postgres
    expect(await (await t.get("/v1/ports/5431")).json()).toEqual({
      port: 5431,
      available: true,
      system: { in_use: false },
    });
    const plain = (await (await t.get("/v1/ports/5433")).json()) as { system: object };
    expect(plain.system).toEqual({ in_use: true, pid: 4321, process: "postgres" });
    expect(engine.asked).toEqual([]);
  });

  test("the proxy holds a port the engine does not know (another engine, gone): the process", async () => {
    const { t, engine } = app();
    t.probe.bound.add(5434);
    t.probe.owners.set(5434, PROXY);
    const body = (await (await t.get("/v1/ports/5434")).json()) as { system: object };
    expect(body.system).toEqual({ in_use: true, ...PROXY });
    expect(engine.asked).toEqual([5434]);
  });
});

describe("allocations and the engine", () => {
  test("claiming a container's port is 409 naming the container; auto-assign skips it", async () => {
    const { t } = app();
    const res = await t.post({ app: "a", instance: "i", service: "db", port: 5432 });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      code: "port_in_use",
      port: 5432,
      system: { in_use: true, ...PROXY, container: SHOP_DB },
    });
    t.probe.bound.add(5430);
    t.probe.bound.add(5431);
    const auto = await t.post({ app: "a", instance: "i", service: "web" });
    expect(((await auto.json()) as { port: number }).port).toBe(5433);
  });

  test("?adopt=true is the caller's claim (allocate --adopt): recorded as asked", async () => {
    // Whether a listener is the checkout's own is scan --register's question (heldByCheckout);
    // a person who says "it is mine" is taken at their word, as before.
    const { t } = app();
    const db = { app: "shop", instance: "main", service: "db", port: 5432 };
    const res = await t.post({ ...db, checkout: "/home/me/review/shop" }, "?adopt=true");
    expect(res.status).toBe(201);
  });
});

describe("GET /v1/listeners and POST /v1/prune with the engine", () => {
  test("listeners behind a proxy carry their container; others are as they were", async () => {
    const engine = fakeEngine([[5432, SHOP_DB]]);
    const listeners = [
      { port: 3000, pid: 7, process: "node" },
      { port: 5432, ...PROXY },
      { port: 8080, pid: 100, process: "docker-proxy" },
    ];
    const t = testApp({ engine, listeners });
    expect(await (await t.get("/v1/listeners")).json()).toEqual([
      { port: 3000, pid: 7, process: "node" },
      { port: 5432, ...PROXY, container: SHOP_DB },
      { port: 8080, pid: 100, process: "docker-proxy" },
    ]);
    expect(engine.asked).toEqual([undefined]); // one question for the whole list
    const quiet = fakeEngine();
    await testApp({ engine: quiet, listeners: [listeners[0] as never] }).get("/v1/listeners");
    expect(quiet.asked).toEqual([]);
  });

  test("a deleted checkout's port a container still publishes is kept, and says by which", async () => {
    const engine = fakeEngine([[5432, SHOP_DB]]);
    const t = testApp({ engine, range: { lo: 5430, hi: 5439 }, checkoutExists: () => false });
    const db = { app: "shop", instance: "main", service: "db", checkout: "/gone/shop" };
    expect((await t.post({ ...db, port: 5432 })).status).toBe(201);
    expect((await t.post({ ...db, service: "web", port: 5433 })).status).toBe(201);
    t.probe.bound.add(5432);
    t.probe.owners.set(5432, PROXY);
    const res = await t.send("POST", "/v1/prune", { json: {} });
    const body = (await res.json()) as {
      candidates: { allocation: { port: number } }[];
      kept: { allocation: { port: number }; reason: string; system: object }[];
    };
    expect(body.candidates.map((c) => c.allocation.port)).toEqual([5433]);
    expect(body.kept).toMatchObject([
      {
        allocation: { port: 5432 },
        cause: "checkout_gone",
        reason: "still published by container shop-db-1 (Compose project shop)",
        system: { container: SHOP_DB },
      },
    ]);
    expect(t.store.list().map((a) => a.port)).toEqual([5432]);
  });
});
