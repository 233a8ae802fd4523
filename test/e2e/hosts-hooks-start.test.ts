// Codex's and Gemini CLI's SessionStart hooks, as those hosts run them: `portctl hooks install
// --codex --gemini` in a project, committed, and a linked worktree made from it. `codex exec`
// (the project trusted, hooks trusted for this run) and `gemini -p` (the folder trusted, a dummy
// API key) run SessionStart before they reach for the network, which is not there: the
// worktree's ports appear in the registry held for the host's own session id. The host is then
// stopped. Temp HOME, offline.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { builtBinaries, runBinary } from "../helpers/binaries.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import { git } from "../helpers/git.ts";
import { type HostHome, hostBin, hostHome, trustForGemini } from "../helpers/hosts.ts";

const codex = hostBin("codex");
const gemini = hostBin("gemini");

let home: TempHome;
let daemon: Daemon;
let env: Record<string, string>;
let hostEnv: HostHome | undefined;
let repo = "";

beforeAll(async () => {
  if (!codex && !gemini) return;
  const bin = await builtBinaries();
  home = tempHome("portctl-hooks-start-");
  daemon = await startDaemon({ home, bin: join(bin, "port-server") });
  const h = hostHome();
  hostEnv = h;
  env = {
    ...h.env,
    HOME: home.root,
    PORT_SERVER_HOME: home.env.PORT_SERVER_HOME,
    PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
    PATH: `${bin}:${h.env.PATH}`,
  };
  repo = join(home.root, "shop");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "package.json"), `{"scripts":{"dev":"vite"}}`);
  const r = await runBinary(join(bin, "portctl"), ["hooks", "install", "--codex", "--gemini"], {
    cwd: repo,
    env,
  });
  expect(r.stderr).toBe("");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "project");
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  home?.cleanup();
  hostEnv?.cleanup();
});

/** Runs the host in a new worktree until the worktree's port shows up (or 60 s), then stops it. */
async function sessionPort(name: string, argv: string[], extra: Record<string, string> = {}) {
  const worktree = join(home.root, `wt-${name}`);
  git(repo, "worktree", "add", "-q", worktree, "-b", name);
  const trust = `[projects."${worktree}"]\ntrust_level = "trusted"\n`;
  mkdirSync(join(home.root, ".codex"), { recursive: true });
  writeFileSync(join(home.root, ".codex/config.toml"), trust);
  trustForGemini(home.root, worktree);
  const proc = Bun.spawn(argv, {
    cwd: worktree,
    env: { ...env, ...extra },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const rows = (await (
        await checkedFetch(`${daemon.url}/v1/allocations`)
      ).json()) as Allocation[];
      const mine = rows.find((a) => a.checkout === worktree);
      if (mine) return mine;
      await Bun.sleep(200);
    }
    return undefined;
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

describe("SessionStart hooks of the other hosts", () => {
  test.skipIf(!codex)(
    "codex exec: the worktree's WEB_PORT held for Codex's session",
    async () => {
      const a = await sessionPort("codex", [
        codex as string,
        "exec",
        "--dangerously-bypass-hook-trust",
        "--skip-git-repo-check",
        "hi",
      ]);
      expect(a).toMatchObject({ service: "web", instance: "wt-codex" });
      expect(a?.lease_session).toMatch(/^[0-9a-f-]{36}$/);
    },
    120_000,
  );

  test.skipIf(!gemini)(
    "gemini -p: the worktree's WEB_PORT held for Gemini's session",
    async () => {
      const a = await sessionPort("gemini", [gemini as string, "-p", "hi"], {
        GEMINI_API_KEY: "offline-test",
      });
      expect(a).toMatchObject({ service: "web", instance: "wt-gemini" });
      expect(a?.lease_session).toMatch(/^[0-9a-f-]{36}$/);
    },
    120_000,
  );
});
