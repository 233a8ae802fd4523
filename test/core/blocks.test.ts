// Blocks of contiguous ports (`allocate --count N`, a Compose range): all or nothing, one row
// per port sharing a block id, released together (by id, by filter, by lease, by prune).
import { beforeEach, describe, expect, test } from "bun:test";
import { Allocator } from "../../src/core/allocator.ts";
import { importAllocations } from "../../src/core/backup.ts";
import type { AllocateRequest } from "../../src/core/model.ts";
import { prune } from "../../src/core/prune.ts";
import { Store } from "../../src/core/store.ts";
import { portError } from "../helpers/assert.ts";
import { type FakeProbe, fakeProbe, fixedClock } from "../helpers/fakes.ts";

let store: Store;
let probe: FakeProbe;
let allocator: Allocator;
let present: Set<string>;
const CHECKOUT = "/home/u/work/shop";

beforeEach(() => {
  const clock = fixedClock();
  store = new Store(":memory:", { now: () => new Date(clock) });
  probe = fakeProbe();
  present = new Set([CHECKOUT]);
  allocator = new Allocator({
    store,
    probe,
    range: { lo: 9000, hi: 9009 },
    now: () => new Date(clock),
    checkoutExists: (p) => present.has(p),
  });
});

const cache = (count: number, more: Partial<AllocateRequest> = {}): AllocateRequest => ({
  app: "shop",
  instance: "main",
  service: "cache",
  checkout: CHECKOUT,
  count,
  ...more,
});

const ports = () => store.list().map((a) => [a.service, a.port, a.block_id]);

describe("a block", () => {
  test("is contiguous: it skips a run broken by a listener or an allocation", () => {
    allocator.allocate({ app: "x", instance: "y", service: "z", port: 9001 });
    probe.bound.add(9004);
    const r = allocator.allocate(cache(3));
    expect(r.block?.map((a) => a.port)).toEqual([9005, 9006, 9007]);
    expect(r.allocation.port).toBe(9005);
    // Each port a row of its own, each with its own name (names.ts), as any allocation has.
    const names = r.block?.map((a) => a.name) ?? [];
    expect(new Set(names).size).toBe(3);
    expect(names.every((n) => typeof n === "string" && n.endsWith(".localhost"))).toBe(true);
    const id = r.allocation.id;
    expect(ports()).toEqual([
      ["z", 9001, null],
      ["cache", 9005, id],
      ["cache-2", 9006, id],
      ["cache-3", 9007, id],
    ]);
  });

  test("is all or nothing: an explicit block with one port taken records none of it", () => {
    allocator.allocate({ app: "x", instance: "y", service: "z", port: 9002 });
    const err = portError(() => allocator.allocate(cache(3, { port: 9000 })));
    expect(err.code).toBe("port_allocated");
    expect(ports()).toEqual([["z", 9002, null]]);
    expect(store.events({}).map((e) => e.port)).toEqual([9002]);
  });

  test("no room for the whole block: range_exhausted, nothing recorded", () => {
    probe.bound.add(9003);
    probe.bound.add(9007);
    expect(portError(() => allocator.allocate(cache(4))).code).toBe("range_exhausted");
    expect(store.count()).toBe(0);
  });

  test("reuse gives the same block back; a different size is a conflict", () => {
    const first = allocator.allocate(cache(2, { port: 9000 }));
    const again = allocator.allocate(cache(2), { reuse: true });
    expect(again).toMatchObject({ created: false, block: first.block });
    const err = portError(() => allocator.allocate(cache(3), { reuse: true }));
    expect(err.code).toBe("service_allocated");
    expect(err.message).toBe("service already allocated (a block of 2 ports)");
    expect(store.count()).toBe(2);
  });

  test("is released together, whichever port is named", () => {
    const b = allocator.allocate(cache(3));
    allocator.allocate({ app: "shop", instance: "main", service: "web" });
    const second = b.block?.[1];
    expect(second).toBeDefined();
    store.deleteById(second?.id as number);
    expect(ports()).toEqual([["web", 9003, null]]);
    expect(store.events({ limit: 3 }).map((e) => [e.kind, e.port])).toEqual([
      ["released", 9002],
      ["released", 9001],
      ["released", 9000],
    ]);
    allocator.allocate(cache(2));
    expect(store.deleteWhere({ service: "cache-2" })).toHaveLength(2);
    expect(ports()).toEqual([["web", 9003, null]]);
  });

  test("prune keeps a block whole: one port listening keeps all of it", () => {
    allocator.allocate(cache(2));
    present.delete(CHECKOUT);
    probe.bound.add(9001);
    const deps = { store, probe, checkoutExists: (p: string) => present.has(p) };
    expect(prune(deps, {}).candidates).toEqual([]);
    expect(store.count()).toBe(2);
    probe.bound.delete(9001);
    expect(prune(deps, {}).candidates.map((c) => c.allocation.port)).toEqual([9000, 9001]);
    expect(store.count()).toBe(0);
  });
});

describe("export and import", () => {
  test("a block comes back as a block under this registry's ids, never joined to another", () => {
    allocator.allocate(cache(2));
    const exported = store.list();
    const other = new Store(":memory:");
    const there = new Allocator({
      store: other,
      probe: fakeProbe(),
      range: { lo: 9100, hi: 9199 },
    });
    // Ids 1 and 2 are taken there, one by a block of its own whose id is 1.
    there.allocate({ app: "x", instance: "y", service: "z", count: 2 });
    const { imported } = importAllocations(other, exported);
    const id = imported[0]?.id as number;
    expect(imported.map((a) => [a.service, a.port, a.block_id])).toEqual([
      ["cache", 9000, id],
      ["cache-2", 9001, id],
    ]);
    expect(imported[0]?.id).not.toBe(1);
    other.deleteById(imported[1]?.id as number);
    expect(other.list().map((a) => a.service)).toEqual(["z", "z-2"]);
  });
});

describe("a block held by a session", () => {
  test("every row is the session's, and the session is recorded", () => {
    const r = allocator.allocate(cache(2, { lease_session: "agent-1" }));
    expect(r.block?.map((a) => a.lease_session)).toEqual(["agent-1", "agent-1"]);
    const again = allocator.allocate(cache(2, { lease_session: "agent-1" }), { reuse: true });
    expect(again.block?.map((a) => a.port)).toEqual(r.block?.map((a) => a.port));
  });
});
