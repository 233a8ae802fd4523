// Choosing a port: the first free one in range, skipping what is allocated, excluded or bound on
// the machine (a fake probe); explicit claims; conflicts with their holder; reuse; the clock.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Allocator, type AllocatorOptions, rfc3339 } from "../../src/core/allocator.ts";
import type { AllocateRequest } from "../../src/core/model.ts";
import { Store } from "../../src/core/store.ts";
import { portError } from "../helpers/assert.ts";
import {
  CREATED_AT,
  type FakeProbe,
  fakeProbe,
  fakeProcesses,
  fixedClock,
  STORED,
} from "../helpers/fakes.ts";

let store: Store;
let probe: FakeProbe;

beforeEach(() => {
  store = new Store(":memory:");
  probe = fakeProbe();
});
afterEach(() => store.close());

function allocator(opts: Partial<AllocatorOptions> = {}): Allocator {
  return new Allocator({
    store,
    probe,
    range: { lo: 3000, hi: 3004 },
    now: fixedClock,
    processes: fakeProcesses(),
    ...opts,
  });
}

const req = (service: string, port?: number): AllocateRequest => ({
  app: "shop",
  instance: "main",
  service,
  ...(port === undefined ? {} : { port }),
});

describe("auto-assign", () => {
  test("hands out the first port of the range, then the next", () => {
    const a = allocator();
    expect(a.allocate(req("web"))).toEqual({
      allocation: {
        id: 1,
        ...req("web"),
        port: 3000,
        created_at: CREATED_AT,
        ...STORED,
        name: "web.shop.localhost",
        url: null,
      },
      created: true,
    });
    expect(a.allocate(req("db")).allocation.port).toBe(3001);
    expect(a.allocate(req("cache", 0)).allocation.port).toBe(3002);
  });

  test("skips allocated, excluded and probe-bound ports", () => {
    store.insert({ ...req("other"), app: "blog", port: 3000, created_at: CREATED_AT });
    probe.bound.add(3002);
    const a = allocator({ range: { lo: 3000, hi: 3010 }, exclude: [{ lo: 3001, hi: 3001 }] });
    expect(a.allocate(req("web")).allocation.port).toBe(3003);
    a.exclude.push({ lo: 3004, hi: 3006 });
    expect(a.allocate(req("db")).allocation.port).toBe(3007);
  });

  test("reuses a port once its allocation is deleted", () => {
    const a = allocator();
    const web = a.allocate(req("web")).allocation;
    a.allocate(req("db"));
    store.deleteById(web.id);
    expect(a.allocate(req("cache")).allocation.port).toBe(3000);
  });

  test("every allocation looks afresh: a listener that appeared since the last look is skipped", () => {
    // The fake probe hands out a snapshot per look, so a look kept from an earlier allocation
    // (a cached answer instead of a fresh one) would miss 3001 and hand it out.
    const a = allocator();
    expect(a.allocate(req("web")).allocation.port).toBe(3000);
    probe.bound.add(3001);
    expect(a.allocate(req("db")).allocation.port).toBe(3002);
    probe.bound.add(3003);
    expect(portError(() => a.allocate(req("cache", 3003))).code).toBe("port_in_use");
    expect(store.list().map((r) => r.port)).toEqual([3000, 3002]);
  });

  test("looks at the machine's listeners once per allocation, whatever the range", () => {
    allocator().allocate(req("web"));
    expect(probe.snapshots).toBe(1);
  });

  test("an exhausted range is range_exhausted and inserts nothing", () => {
    probe.bound.add(3001);
    const a = allocator({ exclude: [{ lo: 3003, hi: 3004 }] });
    a.allocate(req("web"));
    a.allocate(req("db"));
    const err = portError(() => a.allocate(req("cache")));
    expect(err.code).toBe("range_exhausted");
    expect(err.message).toBe("no free port left in range 3000-3004");
    expect(store.list().map((r) => r.port)).toEqual([3000, 3002]);
  });

  test("a port taken by another writer after the snapshot is retried with the next one", () => {
    // A store whose first look at the registry is stale, as after losing a race to another daemon.
    class StaleOnce extends Store {
      stale = 1;
      override allocatedPorts(): Uint8Array {
        return this.stale-- > 0 ? new Uint8Array(65536) : super.allocatedPorts();
      }
    }
    const racy = new StaleOnce(":memory:");
    racy.insert({ ...req("other"), app: "blog", port: 3000, created_at: CREATED_AT });
    const a = new Allocator({ store: racy, probe, range: { lo: 3000, hi: 3004 } });
    expect(a.allocate(req("web")).allocation.port).toBe(3001);
    racy.stale = 1000;
    expect(portError(() => a.allocate(req("db"))).code).toBe("storage");
    expect(racy.count()).toBe(2);
    racy.close();
  });
});

describe("explicit port", () => {
  test("any port 1-65535 may be claimed, in range or not, excluded or not", () => {
    const a = allocator({ exclude: [{ lo: 5432, hi: 5432 }] });
    expect(a.allocate(req("db", 5432)).allocation.port).toBe(5432);
    expect(a.allocate(req("http", 80)).allocation.port).toBe(80);
    expect(a.allocate(req("web", 3004)).allocation.port).toBe(3004);
    // One look at the machine per claim: the question portctl check asks, asked now.
    expect(probe.snapshots).toBe(3);
  });

  test("a port held by another allocation is port_allocated with the holder", () => {
    const a = allocator();
    const holder = a.allocate({ app: "blog", instance: "dev", service: "db", port: 5432 });
    const err = portError(() => a.allocate(req("db", 5432)));
    expect(err.code).toBe("port_allocated");
    expect(err.message).toBe("port already allocated");
    expect(err.holder).toEqual(holder.allocation);
    expect(store.count()).toBe(1);
  });

  test("a port bound on the machine is port_in_use", () => {
    probe.bound.add(5432);
    const err = portError(() => allocator().allocate(req("db", 5432)));
    expect(err.code).toBe("port_in_use");
    expect(err.message).toBe("port in use on system");
    expect(err.holder).toBeUndefined();
    expect(store.count()).toBe(0);
  });

  test("adopt records a bound port, but never a held one, and auto-assign still skips bound", () => {
    probe.bound.add(5432).add(3000);
    const a = allocator();
    expect(a.allocate(req("db", 5432), { adopt: true }).allocation.port).toBe(5432);
    expect(a.allocate(req("web"), { adopt: true }).allocation.port).toBe(3001);
    const err = portError(() => a.allocate({ ...req("db", 5432), app: "blog" }, { adopt: true }));
    expect(err.code).toBe("port_allocated");
    expect(store.count()).toBe(2);
  });
});

describe("same service twice", () => {
  test("is service_allocated with the holder, whatever port is asked for", () => {
    const a = allocator();
    const first = a.allocate(req("web")).allocation;
    for (const port of [undefined, 0, 3000, 4000]) {
      const err = portError(() => a.allocate(req("web", port)));
      expect(err.code).toBe("service_allocated");
      expect(err.message).toBe("service already allocated");
      expect(err.holder).toEqual(first);
    }
    expect(store.list()).toEqual([first]);
  });

  test("reuse returns the existing allocation with created=false", () => {
    const a = allocator();
    const first = a.allocate(req("web", 4000)).allocation;
    for (const port of [undefined, 0, 4000]) {
      expect(a.allocate(req("web", port), { reuse: true })).toEqual({
        allocation: first,
        created: false,
      });
    }
    expect(store.list()).toEqual([first]);
  });

  test("reuse with a different explicit port is service_allocated", () => {
    const a = allocator();
    const first = a.allocate(req("web")).allocation;
    const err = portError(() => a.allocate(req("web", 4000), { reuse: true }));
    expect(err.code).toBe("service_allocated");
    expect(err.holder).toEqual(first);
    expect(store.list()).toEqual([first]);
  });

  test("reuse of a service not yet allocated creates it", () => {
    const result = allocator().allocate(req("web"), { reuse: true });
    expect(result.created).toBe(true);
    expect(result.allocation.port).toBe(3000);
  });
});

describe("the environment-variable rule", () => {
  test("twins recorded before the rule: releasing one leaves the other's variable taken", () => {
    // A database from before the rule may hold web-api and web_api; the daemon's map of
    // variables has one name per key, so releasing that one must not free the key.
    store.write(() => {
      store.insert({ ...req("web-api"), port: 3000, created_at: CREATED_AT });
      store.insert({ ...req("web_api"), port: 3001, created_at: CREATED_AT });
    });
    const a = allocator({ range: { lo: 3000, hi: 3010 } });
    a.allocate(req("db")); // the app/instance's variables are now known
    const dash = store.byService(-1, "shop", "main", "web-api");
    store.deleteWhere({ app: "shop", instance: "main", service: "web_api" });
    const err = portError(() => a.allocate(req("Web.Api")));
    expect(err.code).toBe("env_key_taken");
    expect(err.holder).toEqual(dash ?? undefined);
    store.deleteWhere({ app: "shop", instance: "main", service: "web-api" });
    expect(a.allocate(req("Web.Api")).created).toBe(true);
  });
});

describe("created_at", () => {
  test("comes from the injected clock as RFC 3339 UTC, whole seconds", () => {
    const a = allocator({ now: () => new Date("2031-12-31T23:59:59.999+02:00") });
    expect(a.allocate(req("web")).allocation.created_at).toBe("2031-12-31T21:59:59Z");
  });

  test.each([
    ["2025-02-08T15:04:05.678Z", "2025-02-08T15:04:05Z"],
    ["2025-02-08T15:04:05.000Z", "2025-02-08T15:04:05Z"],
    ["2025-02-08T16:04:05+01:00", "2025-02-08T15:04:05Z"],
  ])("rfc3339(%s) = %s", (input, expected) => {
    expect(rfc3339(new Date(input))).toBe(expected);
  });
});
