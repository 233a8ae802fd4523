// The ownership API in-process: checkout refusal and take-over over HTTP, the client PID header,
// GET /v1/events, /v1/ports/N's last event, POST /v1/prune and POST /v1/import; and, on a real
// daemon, a lease that ends within 2 s of its process's death.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { expectRejected, type TestApp, testApp } from "../helpers/app.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { startDaemon, stopAllDaemons, tempHome } from "../helpers/daemon.ts";
import { CREATED_AT, fakeProcesses, shown } from "../helpers/fakes.ts";
import { allocate as httpAllocate, listAllocations } from "../helpers/http.ts";
import { killHard } from "../helpers/processes.ts";

type Json = Record<string, unknown>;
const body = async <T = Json>(res: Response) => ({
  status: res.status,
  body: (await res.json()) as T,
});

let t: TestApp;
let present: Set<string>;
beforeEach(() => {
  present = new Set(["/w/api", "/o/api"]);
  t = testApp({
    processes: fakeProcesses([[4242, "2025-02-08T15:00:00Z"]]),
    checkoutExists: (p) => present.has(p),
  });
});

const web = (extra: Json = {}) => ({ app: "api", instance: "main", service: "web", ...extra });

describe("POST /v1/allocations with a checkout", () => {
  test("records the checkout, normalised; a relative path is 400", async () => {
    const r = await body(await t.post(web({ checkout: "/w/api/" })));
    expect(r).toMatchObject({ status: 201, body: { checkout: "/w/api" } });
    await expectRejected(
      t,
      () => t.post(web({ service: "x", checkout: "api" })),
      400,
      "checkout must be an absolute path",
    );
  });

  test("reuse from another existing checkout is 409 other_checkout naming both", async () => {
    const first = (await body<Allocation>(await t.post(web({ checkout: "/w/api" })))).body;
    const err = await expectRejected(
      t,
      () => t.post(web({ checkout: "/o/api" }), "?reuse=true"),
      409,
    );
    expect(err).toEqual({
      error: "api/main/web belongs to the checkout at /w/api; this one is /o/api",
      code: "other_checkout",
      holder: first,
      checkout: "/o/api",
    });
  });

  test("reuse after the owner's folder is gone takes it over and says from where", async () => {
    await t.post(web({ checkout: "/w/api" }));
    present.delete("/w/api");
    const r = await body(await t.post(web({ checkout: "/o/api" }), "?reuse=true"));
    expect(r).toMatchObject({
      status: 200,
      body: { port: 3000, checkout: "/o/api", taken_over_from: "/w/api" },
    });
    expect(t.store.byPort(3000)?.checkout).toBe("/o/api");
    expect("taken_over_from" in (t.store.byPort(3000) as object)).toBe(false);
  });

  test("lease_pid records the start time; a PID that is not running is 400", async () => {
    const r = await body(await t.post(web({ lease_pid: 4242 })));
    expect(r.body).toMatchObject({ lease_pid: 4242, lease_started_at: "2025-02-08T15:00:00Z" });
    await expectRejected(
      t,
      () => t.post(web({ service: "db", lease_pid: 99999 })),
      400,
      "lease_pid 99999 is not a running process",
    );
    await expectRejected(t, () => t.post(web({ service: "db", lease_pid: 0 })), 400);
  });
});

describe("the history over HTTP", () => {
  const send = (method: string, path: string, json?: unknown, pid = "31337") =>
    t.send(method, path, { json, headers: { "x-client-pid": pid } });

  test("X-Client-Pid is recorded with allocate and both releases; a bad one is 400", async () => {
    await send("POST", "/v1/allocations", web());
    await send("POST", "/v1/allocations", web({ service: "db" }));
    await send("DELETE", "/v1/allocations/1");
    await send("DELETE", "/v1/allocations", { service: "db" });
    const events = (await body<Json[]>(await t.get("/v1/events"))).body;
    expect(events.map((e) => [e.kind, e.port, e.pid, e.reason])).toEqual([
      ["released", 3001, 31337, "released by filter service=db"],
      ["released", 3000, 31337, "released by id"],
      ["allocated", 3001, 31337, "allocated"],
      ["allocated", 3000, 31337, "allocated"],
    ]);
    await expectRejected(
      t,
      () => send("POST", "/v1/allocations", web({ service: "x" }), "12abc"),
      400,
      "x-client-pid must be a process id",
    );
  });

  test("filters, since and limit; bad ones are 400", async () => {
    await t.post(web());
    await t.post({ app: "shop", instance: "main", service: "db", port: 5432 });
    expect((await body<Json[]>(await t.get("/v1/events?app=shop"))).body).toEqual([
      {
        id: 2,
        at: CREATED_AT,
        kind: "allocated",
        app: "shop",
        instance: "main",
        service: "db",
        port: 5432,
        checkout: null,
        pid: null,
        reason: "allocated",
        project: null,
      },
    ]);
    expect((await body<Json[]>(await t.get("/v1/events?port=3000&since=1d"))).body).toHaveLength(1);
    expect((await body<Json[]>(await t.get("/v1/events?since=2025-02-09T00:00:00Z"))).body).toEqual(
      [],
    );
    expect((await body<Json[]>(await t.get("/v1/events?limit=1"))).body).toHaveLength(1);
    for (const q of ["since=yesterday", "limit=0", "limit=10001", "port=0", "kind=x", "app=%00"]) {
      await expectRejected(t, () => t.get(`/v1/events?${q}`), 400);
    }
  });

  test("/v1/ports/N answers with the port's last event, so check stays one request", async () => {
    await t.post(web({ checkout: "/w/api" }));
    await t.send("DELETE", "/v1/allocations/1");
    const r = (await body(await t.get("/v1/ports/3000"))).body;
    expect(r).toMatchObject({
      available: true,
      last_event: { kind: "released", app: "api", service: "web", checkout: "/w/api" },
    });
    expect("last_event" in (await body(await t.get("/v1/ports/3999"))).body).toBe(false);
    // A held port answers with its holder only.
    await t.post(web({ service: "again" }));
    expect("last_event" in (await body(await t.get("/v1/ports/3000"))).body).toBe(false);
  });
});

describe("POST /v1/prune", () => {
  test("dry run lists, then prunes; nothing held by a null checkout", async () => {
    await t.post(web({ checkout: "/w/api" }));
    await t.post(web({ service: "old" }));
    present.clear();
    const dry = await body<Json>(await t.send("POST", "/v1/prune", { json: { dry_run: true } }));
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dry_run: true,
      candidates: [
        { allocation: { port: 3000 }, reason: "the checkout at /w/api no longer exists" },
      ],
    });
    expect(t.store.count()).toBe(2);
    await t.send("POST", "/v1/prune", { json: {} });
    expect(t.store.list().map((a) => a.service)).toEqual(["old"]);
  });

  test("400 for a bad duration or an unknown field", async () => {
    await expectRejected(
      t,
      () => t.send("POST", "/v1/prune", { json: { unused_for: "a month" } }),
      400,
    );
    await expectRejected(
      t,
      () => t.send("POST", "/v1/prune", { json: { yes: true } }),
      400,
      "unknown field: yes",
    );
  });
});

describe("POST /v1/import", () => {
  test("round trip; a registry bigger than 64 KiB goes in one body", async () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({
      id: i + 1,
      app: "app",
      instance: "inst",
      service: `service-${i}`,
      port: 10000 + i,
      created_at: CREATED_AT,
      checkout: `/home/someone/projects/a-long-checkout-folder-name/worktree-${i}`,
      last_seen: null,
      lease_pid: null,
      lease_started_at: null,
      block_id: null,
      name: `service-${i}.shop.localhost`,
      url: null,
      lease_session: null,
    }));
    expect(JSON.stringify(rows).length).toBeGreaterThan(64 * 1024);
    const fresh = testApp();
    const r = await body<Json>(await fresh.send("POST", "/v1/import", { json: rows }));
    expect(r.status).toBe(200);
    expect(fresh.store.list().map(shown)).toEqual(rows);
    const again = await body<Json>(await fresh.send("POST", "/v1/import", { json: rows }));
    expect(again.body).toEqual({ imported: [], unchanged: 400 });
  });

  test("over 1 MiB is 413, elsewhere 64 KiB still is", async () => {
    const big = JSON.stringify([{ app: "x".repeat(1024 * 1024) }]);
    const opts = { body: big, headers: { "content-type": "application/json" } };
    await expectRejected(
      t,
      () => t.send("POST", "/v1/import", opts),
      413,
      "request body is larger than 1024 KiB",
    );
    const mid = JSON.stringify({ app: "x".repeat(100 * 1024) });
    await expectRejected(
      t,
      () => t.send("POST", "/v1/prune", { ...opts, body: mid }),
      413,
      "request body is larger than 64 KiB",
    );
  });

  test("409 with every conflict, nothing imported; 400 for what is not an export", async () => {
    const held = (await body<Allocation>(await t.post(web()))).body;
    const rows = [
      { app: "a", instance: "i", service: "s", port: 4000, created_at: CREATED_AT },
      { app: "b", instance: "i", service: "s", port: 3000, created_at: CREATED_AT },
    ];
    const err = await expectRejected(t, () => t.send("POST", "/v1/import", { json: rows }), 409);
    expect(err).toMatchObject({
      code: "import_conflict",
      conflicts: [
        {
          allocation: rows[1],
          holder: held,
          reason: "port 3000 is allocated to api/main/web (id=1)",
        },
      ],
    });
    await expectRejected(t, () => t.send("POST", "/v1/import", { json: { rows } }), 400);
    await expectRejected(t, () => t.send("POST", "/v1/import", { json: [{ app: "x" }] }), 400);
  });
});

describe("a real daemon", () => {
  let home: ReturnType<typeof tempHome>;
  let dir: string;
  beforeEach(() => {
    home = tempHome();
    dir = mkdtempSync(join(tmpdir(), "port-server-lease-"));
    mkdirSync(join(dir, "x"));
  });
  afterEach(async () => {
    await stopAllDaemons();
    home.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a leased port is free again within 2 s of its process's death", async () => {
    const d = await startDaemon({ home });
    const child = Bun.spawn(["sleep", "60"]);
    const res = await checkedFetch(`${d.url}/v1/allocations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ app: "t", instance: "i", service: "s", lease_pid: child.pid }),
    });
    expect(res.status).toBe(201);
    await httpAllocate(d.url, { app: "t", instance: "i", service: "kept" });
    killHard(child.pid);
    await child.exited;
    const died = Date.now();
    while ((await listAllocations(d.url)).length > 1 && Date.now() - died < 5000)
      await Bun.sleep(50);
    const took = Date.now() - died;
    expect((await listAllocations(d.url)).map((a) => a.service)).toEqual(["kept"]);
    expect(took).toBeLessThan(2000);
    const events = (await (await checkedFetch(`${d.url}/v1/events?service=s`)).json()) as Json[];
    expect(events[0]).toMatchObject({
      kind: "lease_ended",
      pid: child.pid,
      reason: `process ${child.pid} exited`,
    });
  });
});
