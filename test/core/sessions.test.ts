// Session leases in core: an allocation held for an agent session survives the process that
// asked for it, and ends when the session is ended, when its heartbeat lapses, or when its
// checkout disappears; reuse moves a session's allocation to the new session and never takes
// one that belongs to no session (the main checkout's).
import { beforeEach, describe, expect, test } from "bun:test";
import { Allocator } from "../../src/core/allocator.ts";
import { endSession, heartbeat, listSessions } from "../../src/core/sessions.ts";
import { Store } from "../../src/core/store.ts";
import { Upkeep } from "../../src/core/upkeep.ts";
import { type FakeProcesses, fakeProbe, fakeProcesses, fixedClock } from "../helpers/fakes.ts";

const MAIN = "/home/u/shop";
const WT = "/home/u/shop-wt";

let store: Store;
let allocator: Allocator;
let upkeep: Upkeep;
let present: Set<string>;
let clock: Date;
let procs: FakeProcesses;

beforeEach(() => {
  clock = fixedClock();
  store = new Store(":memory:", { now: () => new Date(clock) });
  present = new Set([MAIN, WT]);
  procs = fakeProcesses();
  const common = { store, probe: fakeProbe(), processes: procs };
  allocator = new Allocator({
    ...common,
    range: { lo: 3000, hi: 3099 },
    now: () => new Date(clock),
    checkoutExists: (p) => present.has(p),
  });
  upkeep = new Upkeep({ ...common, checkoutExists: (p) => present.has(p) });
});

const req = (instance: string, service: string, checkout: string, session?: string) => ({
  app: "shop",
  instance,
  service,
  checkout,
  ...(session ? { lease_session: session } : {}),
});
const held = () => store.list().map((a) => `${a.instance}/${a.service}:${a.lease_session}`);
const kinds = () => store.events({}).map((e) => `${e.kind} ${e.port}: ${e.reason}`);

describe("session leases", () => {
  test("held until the session ends; the main checkout's allocation is never touched", () => {
    allocator.allocate(req("main", "web", MAIN));
    const a = allocator.allocate(req("wt", "web", WT, "s-1")).allocation;
    expect(a.lease_session).toBe("s-1");
    allocator.allocate(req("wt", "db", WT, "s-1"));
    // Nothing ends by itself: no process to die, no heartbeat promised.
    clock = new Date(clock.getTime() + 86_400_000);
    expect(upkeep.endSessions()).toEqual([]);
    expect(listSessions(store).map((s) => [s.id, s.allocations.length])).toEqual([["s-1", 2]]);

    expect(endSession(store, "s-1", -1, 42).map((x) => x.service)).toEqual(["web", "db"]);
    expect(held()).toEqual(["main/web:null"]);
    expect(kinds().slice(0, 2)).toEqual([
      "lease_ended 3002: session s-1 ended",
      "lease_ended 3001: session s-1 ended",
    ]);
    expect(listSessions(store)).toEqual([]);
    // Ending it again (a second hook) is not an error: nothing to release.
    expect(endSession(store, "s-1", -1)).toEqual([]);
  });

  test("reuse moves a session's allocation to the new session, never one of no session", () => {
    allocator.allocate(req("main", "web", MAIN));
    allocator.allocate(req("wt", "web", WT, "old"));
    const moved = allocator.allocate(req("wt", "web", WT, "new"), { reuse: true });
    expect(moved).toMatchObject({ created: false, allocation: { lease_session: "new" } });
    const main = allocator.allocate(req("main", "web", MAIN, "new"), { reuse: true });
    expect(main.allocation.lease_session).toBeNull();
    expect(endSession(store, "old", -1)).toEqual([]);
    expect(endSession(store, "new", -1).map((a) => a.instance)).toEqual(["wt"]);
    expect(held()).toEqual(["main/web:null"]);
  });

  test("a heartbeat's ttl: silent past it, the session ends; each beat extends it", () => {
    allocator.allocate(req("wt", "web", WT, "s-2"));
    expect(heartbeat(store, "s-2", 60, -1)).toMatchObject({ id: "s-2", ttl_seconds: 60 });
    clock = new Date(clock.getTime() + 50_000);
    heartbeat(store, "s-2", 60, -1);
    clock = new Date(clock.getTime() + 50_000);
    expect(upkeep.endSessions()).toEqual([]);
    clock = new Date(clock.getTime() + 11_000);
    expect(upkeep.endSessions().map((a) => a.service)).toEqual(["web"]);
    expect(kinds()[0]).toBe("lease_ended 3000: session s-2 sent no heartbeat for 60s");
    expect(listSessions(store)).toEqual([]);
  });

  test("the checkout deleted: the session's allocations there end, the main's stay", () => {
    allocator.allocate(req("main", "web", MAIN));
    allocator.allocate(req("wt", "web", WT, "s-3"));
    expect(upkeep.endSessions()).toEqual([]);
    present.delete(WT);
    expect(upkeep.endSessions().map((a) => a.instance)).toEqual(["wt"]);
    expect(kinds()[0]).toBe(
      `lease_ended 3001: session s-3: the checkout at ${WT} no longer exists`,
    );
    expect(held()).toEqual(["main/web:null"]);
    expect(listSessions(store)).toEqual([]);
  });

  test("with a PID lease too, whichever ends first releases it", () => {
    const pid = 4242;
    procs.running.set(pid, "started");
    allocator.allocate({ ...req("wt", "web", WT, "s-4"), lease_pid: pid });
    expect(upkeep.endLeases()).toEqual([]);
    procs.running.delete(pid);
    expect(upkeep.endLeases().map((a) => a.service)).toEqual(["web"]);
    expect(store.list()).toEqual([]);
  });
});
