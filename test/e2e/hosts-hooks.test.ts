// The hooks as the real Claude Code runs them (pinned in test/hosts): `portctl hooks install
// --claude` in a project, committed; `claude -p --worktree feat` creates a linked worktree and
// runs SessionStart before it asks for a login, so the session's environment file gets
// `export WEB_PORT=N`, the port held for that session; when the session ends (here at once:
// no login) SessionEnd frees it, while the main checkout's port stays. With no daemon the
// session still starts: one line, and Claude Code goes on. Temp HOME, offline.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation, PortEvent } from "../../src/core/model.ts";
import { runBinary } from "../helpers/binaries.ts";
import type { TempHome } from "../helpers/daemon.ts";
import { git } from "../helpers/git.ts";
import { type HooksFixture, hooksFixture, hostBin, runHost } from "../helpers/hosts.ts";

const claude = hostBin("claude");

let home: TempHome;
let env: Record<string, string>;
let fx: HooksFixture;
let bin = "";
let repo = "";

beforeAll(async () => {
  if (!claude) return;
  fx = await hooksFixture("portctl-hooks-");
  ({ home, env } = fx);
  bin = fx.bin;
  repo = join(home.root, "shop");
  Bun.spawnSync(["mkdir", "-p", repo]);
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "package.json"), `{"scripts":{"dev":"vite"}}`);
  const r = await runBinary(join(bin, "portctl"), ["hooks", "install", "--claude"], {
    cwd: repo,
    env,
  });
  expect(r.stderr).toBe("");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "project");
  // What Claude Code records once the user trusts the folder.
  writeFileSync(
    join(home.root, ".claude.json"),
    JSON.stringify({ projects: { [repo]: { hasTrustDialogAccepted: true } } }),
  );
}, 120_000);

afterAll(async () => {
  await fx?.close();
});

const api = <T>(path: string) => fx.api<T>(path);

function envFiles(): string[] {
  const root = join(home.root, ".claude/session-env");
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"));
}

describe.skipIf(!claude)("claude -p --worktree with the hooks installed", () => {
  test("the worktree's session starts with WEB_PORT held for it; its end frees it", async () => {
    const main = await runBinary(join(bin, "portctl"), ["allocate", "--service", "web"], {
      cwd: repo,
      env,
    });
    expect(main.code).toBe(0);
    const started = Date.now();
    const r = await runHost([claude as string, "-p", "--worktree", "feat", "hi"], {
      cwd: repo,
      env,
    });
    const ms = Date.now() - started;
    // No login here: Claude Code stops after SessionStart (and SessionEnd).
    expect(r.stdout + r.stderr).toContain("Not logged in");
    const exports = envFiles().join("");
    const port = /^export WEB_PORT=(\d+)$/m.exec(exports)?.[1];
    expect(port).toBeDefined();
    const events = await api<PortEvent[]>(`/v1/events?port=${port}`);
    expect(events.map((e) => e.kind)).toEqual(["lease_ended", "allocated"]);
    const allocated = events[1] as PortEvent;
    expect(allocated.checkout).toBe(join(repo, ".claude/worktrees/feat"));
    expect(allocated.reason).toMatch(/^held by session [0-9a-f-]{36}$/);
    expect(events[0]?.reason).toMatch(/^session [0-9a-f-]{36} ended$/);
    // The main checkout's port stays.
    const left = await api<Allocation[]>("/v1/allocations");
    expect(left.map((a) => [a.instance, a.service, a.checkout])).toEqual([["main", "web", repo]]);
    console.log(`claude -p --worktree with both hooks: ${ms} ms in all`);
  }, 120_000);

  test("no daemon: the session still starts, one line from the hook", async () => {
    const r = await runHost([claude as string, "-p", "--worktree", "other", "hi"], {
      cwd: repo,
      env: { ...env, PORT_SERVER_ADDR: "127.0.0.1:1" },
    });
    // The same end as with a daemon: the hook exited 0 and Claude Code went on to ask for a login.
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("Not logged in");
  }, 120_000);
});
