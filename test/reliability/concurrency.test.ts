// Many clients at once against real daemons over HTTP: every auto-allocation answered 201 gets
// its own port, and what the clients were told is exactly what the database file holds. One
// daemon first, then a daemon and a second writer sharing one file: each allocation is chosen
// and inserted inside a BEGIN IMMEDIATE transaction (the daemon's hold a group of them, each in
// a savepoint), under the write lock, so the writers take turns; UNIQUE(port) is the last word
// should a write ever slip past that.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Allocator } from "../../src/core/allocator.ts";
import type { Allocation } from "../../src/core/model.ts";
import { systemProbe } from "../../src/core/probe.ts";
import { Store } from "../../src/core/store.ts";
import { startDaemon, stopAllDaemons, type TempHome, tempHome } from "../helpers/daemon.ts";
import { allocate, listAllocations, readDatabase } from "../helpers/http.ts";

const RANGE = { lo: 20000, hi: 29999 };
const ARGS = ["--range", `${RANGE.lo}-${RANGE.hi}`];
/**
 * Each auto-allocation reads the machine's socket table (/proc/net/tcp), whose cost grows with
 * every TIME_WAIT socket on the machine: ~10 ms here after a few runs, so 800 take ~10 s.
 */
const TIMEOUT_MS = 60_000;

let home: TempHome;
beforeEach(() => {
  home = tempHome("port-server-reliability-");
});
afterEach(async () => {
  await stopAllDaemons();
  home.cleanup();
});

/** Fires every request at once; returns each status and the allocations answered 201. */
async function allocateAll(
  requests: { url: string; app: string; service: string }[],
): Promise<{ statuses: number[]; created: Allocation[] }> {
  const responses = await Promise.all(
    requests.map(async ({ url, app, service }) => {
      const res = await allocate(url, { app, instance: "load", service }, TIMEOUT_MS - 5000);
      return { status: res.status, body: (await res.json()) as Allocation };
    }),
  );
  return {
    statuses: responses.map((r) => r.status),
    created: responses.filter((r) => r.status === 201).map((r) => r.body),
  };
}

const byId = (rows: Allocation[]) => [...rows].sort((a, b) => a.id - b.id);
const inRange = (a: Allocation) => a.port >= RANGE.lo && a.port <= RANGE.hi;

describe("one daemon", () => {
  test(
    "8 clients × 100 concurrent auto-allocations: 800 distinct ports, 800 rows",
    async () => {
      const daemon = await startDaemon({ home, args: ARGS });
      const requests = Array.from({ length: 8 }, (_, c) =>
        Array.from({ length: 100 }, (_, i) => ({
          url: daemon.url,
          app: `client${c}`,
          service: `svc${i}`,
        })),
      ).flat();

      const { statuses, created } = await allocateAll(requests);

      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      expect(new Set(created.map((a) => a.port)).size).toBe(800);
      expect(new Set(created.map((a) => a.id)).size).toBe(800);
      expect(created.filter((a) => !inRange(a))).toEqual([]);
      const asked = requests.map((r) => `${r.app}/load/${r.service}`).sort();
      expect(created.map((a) => `${a.app}/${a.instance}/${a.service}`).sort()).toEqual(asked);

      expect(await listAllocations(daemon.url)).toEqual(byId(created));
      const file = readDatabase(join(home.state, "ports.db"));
      expect(file.rows).toEqual(byId(created));
      expect(file.integrity).toBe("ok");
      expect(await daemon.stop()).toBe(0);
    },
    TIMEOUT_MS,
  );
});

describe("a daemon and a second writer on one database file", () => {
  // One daemon per state folder (its lock), so the second writer is this test process through
  // core's Allocator: the database alone (UNIQUE(port), BEGIN IMMEDIATE) must keep them apart.
  test(
    "400 concurrent auto-allocations split between them: no port twice, every one recorded",
    async () => {
      const daemon = await startDaemon({ home, args: ARGS });
      const store = new Store(join(home.state, "ports.db"));
      const local = new Allocator({ store, probe: systemProbe(), range: RANGE });
      const remote = allocateAll(
        Array.from({ length: 200 }, (_, i) => ({
          url: daemon.url,
          app: "via-http",
          service: `svc${i}`,
        })),
      );
      const here: Allocation[] = [];
      for (let i = 0; i < 200; i++) {
        const req = { app: "via-core", instance: "load", service: `svc${i}` };
        here.push(local.allocate(req).allocation);
        if (i % 10 === 0) await Bun.sleep(0); // let the daemon's answers in between
      }
      const { statuses, created } = await remote;
      store.close();

      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      const all = [...created, ...here];
      expect(new Set(all.map((x) => x.port)).size).toBe(400);
      expect(all.filter((x) => !inRange(x))).toEqual([]);

      const file = readDatabase(join(home.state, "ports.db"));
      expect(file.rows.map((r) => r.id)).toEqual(byId(all).map((r) => r.id));
      expect(new Set(file.rows.map((r) => r.port)).size).toBe(file.rows.length);
      expect(file.integrity).toBe("ok");
      // The daemon sees the whole registry, not just what it wrote itself.
      expect((await listAllocations(daemon.url)).map((r) => r.port)).toEqual(
        file.rows.map((r) => r.port),
      );
      expect(await daemon.stop()).toBe(0);
    },
    TIMEOUT_MS,
  );
});
