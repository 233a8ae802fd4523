// Group commit (core/batch.ts): the allocations asked in one turn of the event loop share one
// transaction; each is undone and fails alone; none is answered before the COMMIT; the one
// look at the listeners is taken when the batch runs, not when a request was made.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Allocator } from "../../src/core/allocator.ts";
import { WriteBatch } from "../../src/core/batch.ts";
import { PortError } from "../../src/core/errors.ts";
import type { AllocateRequest } from "../../src/core/model.ts";
import { Store } from "../../src/core/store.ts";
import { CREATED_AT, type FakeProbe, fakeProbe, fakeProcesses } from "../helpers/fakes.ts";

let dir: string;
let store: Store;
let probe: FakeProbe;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ps-batch-"));
  store = new Store(join(dir, "ports.db"));
  probe = fakeProbe();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const allocator = () =>
  new Allocator({ store, probe, range: { lo: 3000, hi: 3999 }, processes: fakeProcesses() });
const req = (service: string, port?: number): AllocateRequest => ({
  app: "shop",
  instance: "main",
  service,
  ...(port === undefined ? {} : { port }),
});

/** Counts store.write() calls: one per transaction. */
function countWrites(): { readonly n: number } {
  const write = store.write.bind(store);
  const counter = { n: 0 };
  store.write = <T>(fn: () => T): T => {
    counter.n++;
    return write(fn);
  };
  return counter;
}

describe("allocateBatched", () => {
  test("fifty asked at once: one transaction, one look at the listeners, fifty ports in order", async () => {
    const a = allocator();
    const writes = countWrites();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => a.allocateBatched(req(`s${i}`))),
    );
    expect(results.map((r) => r.allocation.port)).toEqual(
      Array.from({ length: 50 }, (_, i) => 3000 + i),
    );
    expect(writes.n).toBe(1);
    expect(probe.snapshots).toBe(1);
    expect(store.events({}).filter((e) => e.kind === "allocated")).toHaveLength(50);
  });

  test("a conflict in the middle fails alone; the others are committed with their events", async () => {
    const a = allocator();
    const [first, dup, third] = await Promise.allSettled([
      a.allocateBatched(req("web")),
      a.allocateBatched(req("web")),
      a.allocateBatched(req("db", 3500)),
    ]);
    expect(first.status).toBe("fulfilled");
    expect(third.status).toBe("fulfilled");
    expect(dup.status).toBe("rejected");
    expect(((dup as PromiseRejectedResult).reason as PortError).code).toBe("service_allocated");
    expect(store.list().map((r) => `${r.service}:${r.port}`)).toEqual(["web:3000", "db:3500"]);
    expect(store.events({}).map((e) => e.service)).toEqual(["db", "web"]);
  });

  test("the listeners are looked at when the batch runs: a port bound after asking is refused", async () => {
    const a = allocator();
    const claim = a.allocateBatched(req("web", 3100));
    probe.bound.add(3100); // after the request, before its batch
    const err = await claim.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortError);
    expect((err as PortError).code).toBe("port_in_use");
    expect(store.list()).toEqual([]);
  });

  test("answers only once committed: a second connection sees the row when the promise settles", async () => {
    const a = allocator();
    const { allocation } = await a.allocateBatched(req("web"));
    const other = new Store(join(dir, "ports.db"));
    try {
      expect(other.byId(allocation.id)?.port).toBe(allocation.port);
    } finally {
      other.close();
    }
  });

  test("a bad lease PID is refused before any batch, with nothing written", async () => {
    const a = allocator();
    const err = await a
      .allocateBatched({ ...req("web"), lease_pid: 999_999 })
      .catch((e: unknown) => e);
    expect((err as PortError).code).toBe("bad_request");
    expect(store.list()).toEqual([]);
  });
});

describe("WriteBatch", () => {
  const row = (service: string, port: number) => ({
    app: "shop",
    instance: "main",
    service,
    port,
    created_at: CREATED_AT,
  });

  test("a write that fails half-way is undone alone (its savepoint), the others commit", async () => {
    const batch = new WriteBatch(store);
    store.write(() => store.allocatedPorts()); // the map is loaded, so inserts mark it
    const results = await Promise.allSettled([
      batch.submit(() => store.insert(row("a", 4000))),
      batch.submit(() => {
        store.insert(row("b", 4001));
        throw new Error("failed after its insert");
      }),
      batch.submit(() => store.insert(row("c", 4002))),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(store.list().map((r) => r.service)).toEqual(["a", "c"]);
    expect(store.events({}).map((e) => e.service)).toEqual(["c", "a"]);
    // The map of allocated ports does not keep the undone 4001.
    store.write(() => expect(store.allocatedPorts()[4001]).toBe(0));
  });

  test("when the transaction itself fails, every write of the batch fails and nothing is kept", async () => {
    const batch = new WriteBatch(store, {
      before: () => {
        throw new PortError("storage", "disk full");
      },
    });
    const results = await Promise.allSettled([
      batch.submit(() => store.insert(row("a", 4000))),
      batch.submit(() => store.insert(row("b", 4001))),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(store.list()).toEqual([]);
  });

  test("a storage error that ends the whole transaction (disk full) fails the batch and keeps nothing", async () => {
    // SQLITE_FULL (like an I/O error) rolls back the whole transaction, not only the savepoint:
    // the writes after it must not run on their own, each committed, while every one of them is
    // answered with the failed COMMIT.
    const batch = new WriteBatch(store);
    const pages = store.db.query<{ page_count: number }, []>("PRAGMA page_count").get();
    // Sized so that the limit is met where SQLite gives up the whole transaction (a cache
    // spill), not in one statement's page allocation, which it undoes alone.
    store.db.run(`PRAGMA max_page_count = ${(pages?.page_count ?? 0) + 1}`);
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) =>
        batch.submit(() => store.insert(row(`${"x".repeat(120)}${i}`, 4000 + i))),
      ),
    );
    store.db.run("PRAGMA max_page_count = 1073741823");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(0);
    expect(store.list()).toEqual([]);
    expect(store.events({})).toEqual([]);
    expect(store.db.inTransaction).toBe(false);
  });

  test("later submissions form the next batch", async () => {
    const batch = new WriteBatch(store);
    const writes = countWrites();
    await batch.submit(() => store.insert(row("a", 4000)));
    await batch.submit(() => store.insert(row("b", 4001)));
    expect(writes.n).toBe(2);
  });
});
