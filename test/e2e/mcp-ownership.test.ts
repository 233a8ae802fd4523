// `portctl mcp` and ownership, end to end on the compiled binaries: allocate records the
// project's checkout as the CLI does, a lease ends with the agent session (the MCP server's
// process), and prune lists, then releases, the ports of a deleted worktree.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import { git, makeRepo, type Repo } from "../helpers/git.ts";
import { connectMcp, type McpSession } from "../helpers/mcp.ts";

let bin = "";
let home: TempHome;
let daemon: Daemon;
let repo: Repo;
let session: McpSession;
let env: Record<string, string>;

type Allocated = { allocation: Allocation; created: boolean };

async function allocations(): Promise<Allocation[]> {
  return (await checkedFetch(`${daemon.url}/v1/allocations`)).json() as Promise<Allocation[]>;
}

beforeAll(async () => {
  const dir = await builtBinaries();
  bin = join(dir, "portctl");
  home = tempHome("portctl-mcp-own-");
  daemon = await startDaemon({ home, bin: join(dir, "port-server") });
  repo = makeRepo(home.root, "shop");
  env = { HOME: home.root, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` };
  session = await connectMcp({ bin, cwd: home.root, env });
}, 120_000);

afterAll(async () => {
  await session?.close();
  await daemon?.stop();
  home?.cleanup();
});

describe("portctl mcp and ownership", () => {
  test("allocate records the checkout of directory, as portctl allocate does", async () => {
    const { allocation } = await session.call<Allocated>("allocate", {
      service: "web",
      directory: repo.worktree,
    });
    expect(allocation).toMatchObject({
      app: "shop",
      instance: "wt-feature",
      checkout: realpathSync(repo.worktree),
      lease_pid: null,
    });
  });

  test("lease: true ends with the session; lease and lease_pid together are refused", async () => {
    const agent = await connectMcp({ bin, cwd: home.root, env });
    const { allocation } = await agent.call<Allocated>("allocate", {
      service: "tests",
      directory: repo.main,
      lease: true,
    });
    expect(allocation.lease_pid).toBe(agent.pid);
    expect(
      await agent.failure("allocate", { service: "x", lease: true, lease_pid: process.pid }),
    ).toBe("lease and lease_pid both name the process; pass one");
    await agent.close();
    const deadline = Date.now() + 10_000;
    while ((await allocations()).some((a) => a.id === allocation.id) && Date.now() < deadline) {
      await Bun.sleep(100);
    }
    expect((await allocations()).map((a) => a.service)).not.toContain("tests");
  });

  test("prune: lists a deleted worktree's ports, releases them only with dry_run false", async () => {
    const before = await allocations();
    const gone = before.find((a) => a.instance === "wt-feature");
    if (!gone) throw new Error("no worktree allocation");
    git(repo.main, "worktree", "remove", "--force", repo.worktree);
    rmSync(repo.worktree, { recursive: true, force: true });

    const listed = await session.call<{
      dry_run: boolean;
      candidates: { allocation: Allocation; cause: string }[];
    }>("prune");
    expect(listed.dry_run).toBe(true);
    expect(listed.candidates.map((c) => [c.allocation.id, c.cause])).toEqual([
      [gone.id, "checkout_gone"],
    ]);
    expect(await allocations()).toEqual(before);

    const pruned = await session.call<{ candidates: { allocation: Allocation }[] }>("prune", {
      dry_run: false,
    });
    expect(pruned.candidates.map((c) => c.allocation.id)).toEqual([gone.id]);
    expect(await allocations()).toEqual(before.filter((a) => a.id !== gone.id));
    expect(await session.failure("prune", { unused_for: "soon" })).toBe(
      "unused_for must be a duration such as 30m, 3h, 1d or 2w",
    );
  });

  test("history: what happened to a port, newest first; a bad limit names the argument", async () => {
    const { events } = await session.call<{ events: { kind: string; port: number }[] }>("history", {
      app: "shop",
      instance: "wt-feature",
    });
    expect(events.map((e) => e.kind)).toEqual(["pruned", "allocated"]);
    expect(await session.failure("history", { limit: 0 })).toBe(
      "limit must be an integer between 1 and 10000",
    );
  });
});
