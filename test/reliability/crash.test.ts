// `kill -9` in the middle of a burst of allocations: whatever a client was told (201) survives
// the crash exactly, nothing is recorded twice, and the file passes SQLite's integrity check.
// This is what answering only after the COMMIT of the allocation's group (core/batch.ts) is
// for: a killed process loses nothing it committed (synchronous=FULL is for power loss, which
// this test cannot cause).
import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { startDaemon, stopAllDaemons, type TempHome, tempHome } from "../helpers/daemon.ts";
import { allocate, listAllocations, readDatabase } from "../helpers/http.ts";

const TOTAL = 500;
const KILL_AFTER = 250;
/**
 * Clients, each sending its next request as soon as it has an answer: requests are always in
 * flight, whereas waves of requests awaited together could all be answered by one group
 * commit before the kill.
 */
const CLIENTS = 60;
const ARGS = ["--range", "20000-29999"];

let home: TempHome;
beforeEach(() => {
  home = tempHome("port-server-crash-");
});
afterEach(async () => {
  await stopAllDaemons();
  home.cleanup();
});

test("SIGKILL after ~half of 500 concurrent allocations loses nothing that was answered 201", async () => {
  const daemon = await startDaemon({ home, args: ARGS });
  const answered: Allocation[] = [];
  const unanswered: number[] = [];
  let fired = 0;
  let killed = false;

  const one = async (i: number) => {
    try {
      const res = await allocate(daemon.url, { app: "crash", instance: "k9", service: `s${i}` });
      if (res.status !== 201) throw new Error(`status ${res.status}`);
      answered.push((await res.json()) as Allocation);
    } catch {
      unanswered.push(i); // the kill cut it off: it may or may not have been committed
    }
    if (!killed && answered.length >= KILL_AFTER) {
      killed = true;
      daemon.proc.kill("SIGKILL");
    }
  };
  let sent = 0;
  const client = async () => {
    while (!killed && sent < TOTAL) {
      fired++;
      await one(sent++);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  await daemon.proc.exited;

  expect(daemon.proc.signalCode).toBe("SIGKILL");
  expect(answered.length).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(fired).toBeLessThan(TOTAL); // the crash came in the middle, not after the end
  expect(answered.length + unanswered.length).toBe(fired);
  expect(unanswered.length).toBeGreaterThan(0); // requests were in flight when it died

  const again = await startDaemon({ home, args: ARGS });
  const after = await listAllocations(again.url);
  for (const a of answered) expect(after).toContainEqual(a);
  // Anything else in the file is a request that committed as the kill cut off its answer.
  const extra = after.filter((row) => !answered.some((a) => a.id === row.id));
  const cutOff = new Set(unanswered.map((i) => `s${i}`));
  expect(extra.filter((row) => !cutOff.has(row.service))).toEqual([]);
  expect(new Set(after.map((a) => a.port)).size).toBe(after.length);

  // The restarted daemon goes on from there without handing out a recorded port.
  const next = await allocate(again.url, { app: "crash", instance: "k9", service: "after" });
  expect(next.status).toBe(201);
  const fresh = (await next.json()) as Allocation;
  expect(after.map((a) => a.port)).not.toContain(fresh.port);
  expect(await again.stop()).toBe(0);

  const file = readDatabase(join(home.state, "ports.db"));
  expect(file.integrity).toBe("ok");
  expect(file.rows).toEqual([...after, fresh]);
}, 45_000);
