// `allocate --lease-session ID` and `portctl session end|heartbeat|list` against a real daemon:
// the lines people read, --json as the API answers, bad ids refused before anything is sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";

let f: CliFixture;
beforeAll(async () => {
  f = await cliFixture();
});
afterAll(() => f.close());

describe("portctl session", () => {
  test("allocate holds for the session; list, heartbeat and end say what they did", async () => {
    const kept = await f.alloc("--service", "db");
    const r = await f.run(["allocate", "--service", "web", "--lease-session", "abc-123"]);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toMatch(
      /^allocated port \d+ \(id=\d+\) for myapp\/default\/web, held by session abc-123$/,
    );
    const again = await f.run([
      "allocate",
      "-q",
      "--reuse",
      "--service",
      "web",
      "--lease-session",
      "abc-123",
    ]);
    expect(again.code).toBe(0);

    const beat = await f.run(["session", "heartbeat", "abc-123", "--ttl", "5m"]);
    expect(beat.out).toEqual([
      "session abc-123 holds 1 port; it ends after 300s without a heartbeat",
    ]);
    const list = await f.run(["session", "list"]);
    expect(list.out[0]).toMatch(/^SESSION\s+STARTED\s+HEARTBEAT\s+TTL\s+PORTS$/);
    expect(list.out[1]).toContain("abc-123");
    expect(list.out[1]).toContain("300s");
    const json = await f.run(["session", "list", "--json"]);
    expect(JSON.parse(json.out.join("\n"))).toEqual(await f.api("/v1/sessions"));

    const end = await f.run(["session", "end", "abc-123"]);
    expect(end.out).toHaveLength(1);
    expect(end.out[0]).toMatch(/^released port \d+ \(id=\d+\) of myapp\/default\/web$/);
    expect((await f.allocations()).map((a) => a.id)).toEqual([kept.id]);
    expect(await f.run(["session", "end", "abc-123"])).toEqual({
      code: 0,
      out: ["session abc-123 held no ports"],
      err: [],
    });
  });

  test("the daemon itself ends a session's ports once their checkout folder is deleted", async () => {
    const dir = join(f.home.root, "gone-worktree");
    mkdirSync(dir);
    const r = await f.run(["-C", dir, "allocate", "--service", "web", "--lease-session", "wt-1"]);
    expect(r.code).toBe(0);
    rmSync(dir, { recursive: true });
    const deadline = Date.now() + 15_000;
    while ((await f.allocations()).some((a) => a.lease_session === "wt-1") && Date.now() < deadline)
      await Bun.sleep(100);
    expect((await f.allocations()).some((a) => a.lease_session === "wt-1")).toBe(false);
    const events = await f.api<{ kind: string; reason: string }[]>("/v1/events?limit=1");
    expect(events[0]).toMatchObject({
      kind: "lease_ended",
      reason: `session wt-1: the checkout at ${dir} no longer exists`,
    });
  }, 30_000);

  test("a bad id or two kinds of lease: one line, exit 1, nothing allocated", async () => {
    const before = await f.allocations();
    const bad = await f.run(["session", "end", "../etc"]);
    expect(bad).toEqual({
      code: 1,
      out: [],
      err: ["error: session must be a session id: letters, digits, '.', '_', ':', '-' (1-128)"],
    });
    const flag = await f.run(["allocate", "--service", "x", "--lease-session", "a b"]);
    expect(flag.code).toBe(1);
    expect(flag.err[0]).toStartWith("error: invalid value 'a b' for --lease-session");
    const both = await f.run(["allocate", "--service", "x", "--lease", "--lease-session", "s"]);
    expect(both.err).toEqual(["error: pass one of --lease, --lease-pid and --lease-session"]);
    const ttl = await f.run(["session", "heartbeat", "s", "--ttl", "0s"]);
    expect(ttl).toEqual({
      code: 1,
      out: [],
      err: ["error: ttl must be a duration of at least 1s such as 30s, 10m or 1h"],
    });
    expect(await f.allocations()).toEqual(before);
  });
});
