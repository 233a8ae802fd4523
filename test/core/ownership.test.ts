// Ownership in core: the checkout rule of reuse, leases that end with their process (PID reuse
// included), the history written with every change (and never without it), prune and import.
import { beforeEach, describe, expect, test } from "bun:test";
import { Allocator } from "../../src/core/allocator.ts";
import { importAllocations } from "../../src/core/backup.ts";
import { PortError } from "../../src/core/errors.ts";
import { prune } from "../../src/core/prune.ts";
import { Store } from "../../src/core/store.ts";
import { Upkeep } from "../../src/core/upkeep.ts";
import { portError } from "../helpers/assert.ts";
import {
  type FakeProbe,
  type FakeProcesses,
  fakeProbe,
  fakeProcesses,
  fixedClock,
} from "../helpers/fakes.ts";

const WORK = "/home/u/work/api";
const OSS = "/home/u/oss/api";

let store: Store;
let probe: FakeProbe;
let procs: FakeProcesses;
let present: Set<string>;
let allocator: Allocator;
let clock: Date;

beforeEach(() => {
  clock = fixedClock();
  store = new Store(":memory:", { now: () => new Date(clock) });
  probe = fakeProbe();
  procs = fakeProcesses();
  present = new Set([WORK, OSS]);
  allocator = new Allocator({
    store,
    probe,
    processes: procs,
    range: { lo: 3000, hi: 3099 },
    now: () => new Date(clock),
    checkoutExists: (p) => present.has(p),
  });
});

const web = (checkout: string | null, extra: Record<string, unknown> = {}) => ({
  app: "api",
  instance: "main",
  service: "web",
  checkout,
  ...extra,
});
const kinds = () => store.events({}).map((e) => `${e.kind} ${e.port}`);

describe("checkout", () => {
  test("a second clone reusing the name is refused while the first exists, naming both", () => {
    const first = allocator.allocate(web(WORK), { reuse: true }).allocation;
    expect(first.checkout).toBe(WORK);
    const err = portError(() => allocator.allocate(web(OSS), { reuse: true }));
    expect(err.code).toBe("other_checkout");
    expect(err.message).toBe(`api/main/web belongs to the checkout at ${WORK}; this one is ${OSS}`);
    expect(err.holder).toEqual(first);
    expect(store.list()).toEqual([first]);
    expect(kinds()).toEqual(["allocated 3000"]);
  });

  test("the same checkout reuses; a caller with no checkout (plain API) reuses as before", () => {
    const first = allocator.allocate(web(WORK), { reuse: true }).allocation;
    expect(allocator.allocate(web(WORK), { reuse: true })).toEqual({
      allocation: first,
      created: false,
    });
    expect(allocator.allocate(web(null), { reuse: true }).allocation).toEqual(first);
  });

  test("a gone checkout's allocation is taken over, with the old path in the history", () => {
    allocator.allocate(web(WORK), { reuse: true });
    present.delete(WORK);
    const r = allocator.allocate(web(OSS), { reuse: true, pid: 42 });
    expect(r.created).toBe(false);
    expect(r.takenOverFrom).toBe(WORK);
    expect(r.allocation).toMatchObject({ port: 3000, checkout: OSS });
    const [ev] = store.events({});
    expect(ev).toMatchObject({
      kind: "taken_over",
      checkout: OSS,
      pid: 42,
      reason: `the checkout at ${WORK} no longer exists`,
    });
  });

  test("an allocation from before checkouts (null) goes to the first checkout that reuses it", () => {
    store.write(() =>
      store.insert({ ...web(null), port: 3005, created_at: "2025-01-01T00:00:00Z" }),
    );
    const r = allocator.allocate(web(WORK), { reuse: true });
    expect(r).toMatchObject({ takenOverFrom: null, allocation: { port: 3005, checkout: WORK } });
    expect(() => allocator.allocate(web(OSS), { reuse: true })).toThrow(PortError);
  });
});

describe("leases", () => {
  test("a lease records its process's start time; a PID not running is refused", () => {
    procs.running.set(500, "2025-02-08T15:00:00Z");
    const a = allocator.allocate(web(null, { lease_pid: 500 })).allocation;
    expect(a).toMatchObject({ lease_pid: 500, lease_started_at: "2025-02-08T15:00:00Z" });
    const err = portError(() =>
      allocator.allocate({ ...web(null), service: "db", lease_pid: 501 }),
    );
    expect(err).toMatchObject({
      code: "bad_request",
      message: "lease_pid 501 is not a running process",
    });
  });

  test("ended before any auto-assign: a crashed suite's 100 ports leave nothing behind", () => {
    procs.running.set(600, "T0");
    for (let i = 0; i < 100; i++) {
      allocator.allocate({ app: "t", instance: "i", service: `s${i}`, lease_pid: 600 });
    }
    expect(store.count()).toBe(100);
    procs.running.delete(600);
    const next = allocator.allocate({ app: "other", instance: "i", service: "web" }).allocation;
    expect(next.port).toBe(3000);
    expect(store.list().map((a) => a.service)).toEqual(["web"]);
    const ended = store.events({ limit: 200 }).filter((e) => e.kind === "lease_ended");
    expect(ended).toHaveLength(100);
    expect(ended[0]).toMatchObject({ pid: 600, reason: "process 600 exited" });
  });

  test("a reused PID (same number, other start time) does not keep the lease", () => {
    procs.running.set(700, "2025-02-08T15:00:00Z");
    allocator.allocate(web(null, { lease_pid: 700 }));
    procs.running.set(700, "2025-02-08T16:30:00Z");
    const upkeep = new Upkeep({ store, probe, processes: procs });
    expect(upkeep.endLeases().map((a) => a.port)).toEqual([3000]);
    expect(store.count()).toBe(0);
    expect(store.events({})[0]?.reason).toBe(
      "process 700 is not the one that took the lease (its PID was reused)",
    );
  });

  test("a living lease is kept, and unleased allocations are never touched", () => {
    procs.running.set(800, "T");
    allocator.allocate(web(null, { lease_pid: 800 }));
    allocator.allocate({ ...web(null), service: "db" });
    expect(new Upkeep({ store, probe, processes: procs }).endLeases()).toEqual([]);
    procs.running.clear();
    expect(new Upkeep({ store, probe, processes: procs }).endLeases()).toHaveLength(1);
    expect(store.list().map((a) => a.service)).toEqual(["db"]);
  });
});

describe("history", () => {
  test("a change that fails writes no event; an event that fails undoes the change", () => {
    allocator.allocate(web(WORK));
    portError(() => allocator.allocate(web(WORK)));
    expect(kinds()).toEqual(["allocated 3000"]);
    store.db.run("DROP TABLE events");
    expect(() => allocator.allocate({ ...web(WORK), service: "db" })).toThrow();
    expect(store.list().map((a) => a.service)).toEqual(["web"]);
    expect(() => store.deleteById(1, { reason: "x" })).toThrow();
    expect(store.count()).toBe(1);
  });

  test("newest first, with filters, since and limit", () => {
    allocator.allocate(web(WORK), { pid: 9 });
    clock = new Date(clock.getTime() + 3_600_000);
    allocator.allocate({ app: "shop", instance: "main", service: "db", port: 5432 });
    store.deleteWhere({ app: "api" }, { pid: 10, reason: "released by filter app=api" });
    expect(kinds()).toEqual(["released 3000", "allocated 5432", "allocated 3000"]);
    expect(store.events({ port: 3000 }).map((e) => [e.kind, e.pid])).toEqual([
      ["released", 10],
      ["allocated", 9],
    ]);
    expect(store.events({ app: "shop" })).toHaveLength(1);
    expect(store.events({ since: "2025-02-08T16:00:00Z" })).toHaveLength(2);
    expect(store.events({ limit: 1 })).toHaveLength(1);
    // Field filters and since AND-ed, their parameters in the clause's order, then the limit.
    const since = "2025-02-08T16:00:00Z";
    expect(store.events({ port: 3000, since }).map((e) => e.kind)).toEqual(["released"]);
    expect(store.events({ port: 5432, since, limit: 5 }).map((e) => e.kind)).toEqual(["allocated"]);
    expect(store.events({ app: "shop", port: 3000, since })).toEqual([]);
    expect(store.lastEvent(3000)?.kind).toBe("released");
    expect(store.lastEvent(4000)).toBeNull();
  });

  test("trimmed to the newest 10,000 and to 90 days", () => {
    store.write(() => {
      const q = store.db.query(
        "INSERT INTO events (at, kind, app, instance, service, port, reason) VALUES (?, 'allocated', 'a', 'i', 's', 1, 'r')",
      );
      q.run("2024-01-01T00:00:00Z"); // older than 90 days before the clock
      for (let i = 0; i < 10_005; i++) q.run("2025-02-08T00:00:00Z");
    });
    expect(store.trimEvents()).toBe(6);
    expect(store.db.query("SELECT count(*) AS n, min(at) AS at FROM events").get()).toEqual({
      n: 10_000,
      at: "2025-02-08T00:00:00Z",
    });
  });
});

describe("last_seen", () => {
  test("set from one listener snapshot, at most once a minute per port", () => {
    allocator.allocate(web(WORK));
    allocator.allocate({ ...web(WORK), service: "db" });
    probe.bound.add(3000);
    const upkeep = new Upkeep({ store, probe, processes: procs });
    expect(upkeep.recordSeen()).toBe(1);
    expect(store.byPort(3000)?.last_seen).toBe("2025-02-08T15:04:05Z");
    expect(store.byPort(3001)?.last_seen).toBeNull();
    clock = new Date(clock.getTime() + 30_000);
    expect(upkeep.recordSeen()).toBe(0);
    expect(store.byPort(3000)?.last_seen).toBe("2025-02-08T15:04:05Z");
    clock = new Date(clock.getTime() + 31_000);
    expect(upkeep.recordSeen()).toBe(1);
    expect(store.byPort(3000)?.last_seen).toBe("2025-02-08T15:05:06Z");
  });
});

describe("prune", () => {
  const deps = () => ({ store, probe, checkoutExists: (p: string) => present.has(p) });

  test("selects gone checkouts; dry run releases nothing; never null or listening", () => {
    allocator.allocate(web(WORK));
    allocator.allocate({ ...web(WORK), service: "db" });
    allocator.allocate({ ...web(OSS), instance: "x" });
    allocator.allocate({ ...web(null), instance: "old" });
    present.clear();
    probe.bound.add(3001);
    const dry = prune(deps(), { dry_run: true });
    expect(dry.candidates.map((c) => [c.allocation.port, c.reason])).toEqual([
      [3000, `the checkout at ${WORK} no longer exists`],
      [3002, `the checkout at ${OSS} no longer exists`],
    ]);
    // 3001 listens: kept, and the result says by whom.
    expect(dry.kept.map((k) => [k.allocation.port, k.cause, k.reason])).toEqual([
      [3001, "checkout_gone", "still listening: postgres (pid 4321)"],
    ]);
    expect(store.count()).toBe(4);
    const done = prune(deps(), {}, 55);
    expect(done).toEqual({
      dry_run: false,
      candidates: dry.candidates,
      projects: [],
      kept: dry.kept,
      kept_projects: [],
    });
    expect(store.list().map((a) => a.port)).toEqual([3001, 3003]);
    expect(store.events({ limit: 2 }).map((e) => [e.kind, e.port, e.pid])).toEqual([
      ["pruned", 3002, 55],
      ["pruned", 3000, 55],
    ]);
  });

  test("--unused-for also selects allocations not seen listening for that long", () => {
    allocator.allocate(web(WORK));
    allocator.allocate({ ...web(WORK), service: "db" });
    clock = new Date(clock.getTime() + 40 * 86_400_000);
    store.markSeen([2], "2025-03-18T00:00:00Z");
    const r = prune(deps(), { dry_run: true, unused_for: 30 * 86_400_000 });
    expect(r.candidates.map((c) => [c.allocation.port, c.reason])).toEqual([
      [3000, "never seen listening since it was allocated at 2025-02-08T15:04:05Z"],
    ]);
  });
});

describe("import", () => {
  test("into an empty registry gives the same rows; again changes nothing", () => {
    procs.running.set(900, "T");
    allocator.allocate(web(WORK));
    allocator.allocate({ ...web(OSS), instance: "x", lease_pid: 900 });
    store.deleteById(1);
    allocator.allocate({ ...web(WORK), service: "db", port: 5432 });
    const exported = store.list();
    const fresh = new Store(":memory:");
    expect(importAllocations(fresh, exported).imported).toEqual(exported);
    expect(fresh.list()).toEqual(exported);
    expect(importAllocations(fresh, exported)).toEqual({ imported: [], unchanged: 2 });
    expect(fresh.events({}).map((e) => e.kind)).toEqual(["imported", "imported"]);
  });

  test("any conflict imports nothing and names every holder", () => {
    const held = allocator.allocate(web(WORK)).allocation;
    const rows = [
      { app: "new", instance: "i", service: "ok", port: 4000, created_at: "2025-01-01T00:00:00Z" },
      { app: "new", instance: "i", service: "web", port: 3000, created_at: "2025-01-01T00:00:00Z" },
      { ...web(null), port: 4001, created_at: "2025-01-01T00:00:00Z" },
    ];
    const err = portError(() => importAllocations(store, rows));
    expect(err.code).toBe("import_conflict");
    expect(err.message).toBe("nothing imported: 2 conflicts with the registry");
    expect(err.details?.conflicts).toEqual([
      {
        allocation: rows[1],
        holder: held,
        reason: "port 3000 is allocated to api/main/web (id=1)",
      },
      { allocation: rows[2], holder: held, reason: "api/main/web (id=1) already has port 3000" },
    ]);
    expect(store.list()).toEqual([held]);
    expect(kinds()).toEqual(["allocated 3000"]);
  });
});
