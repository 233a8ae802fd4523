// Codex's and Gemini CLI's session hooks, as those hosts run them: `portctl hooks install
// --codex --gemini` in a project, committed, and a linked worktree made from it. `codex exec`
// (the project trusted, hooks trusted for this run) and `gemini -p` (the folder trusted, a dummy
// API key) run SessionStart and their prompt hook before they reach for the network, which is
// not there: the worktree's ports appear in the registry held for the host's own session id,
// with a heartbeat. Then the host is stopped as a person would: Ctrl-C (SIGINT) makes Codex run
// SessionEnd, SIGTERM makes Gemini CLI run it, and the port is freed; killed with SIGKILL (no
// SessionEnd), the host's session loses the port once its ttl lapses. The prompt hooks
// (UserPromptSubmit, BeforeAgent) are seen on their own in a worktree with no declared port.
// Temp HOME, offline.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation, PortEvent } from "../../src/core/model.ts";
import type { Session } from "../../src/core/sessions.ts";
import { runBinary } from "../helpers/binaries.ts";
import type { TempHome } from "../helpers/daemon.ts";
import { git } from "../helpers/git.ts";
import { type HooksFixture, hooksFixture, hostBin, trustForGemini } from "../helpers/hosts.ts";

const codex = hostBin("codex");
const gemini = hostBin("gemini");

let home: TempHome;
let env: Record<string, string>;
let fx: HooksFixture;
let repo = "";

beforeAll(async () => {
  if (!codex && !gemini) return;
  fx = await hooksFixture("portctl-hooks-start-");
  ({ home, env } = fx);
  const bin = fx.bin;
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
  await fx?.close();
});

const api = <T>(path: string) => fx.api<T>(path);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await Bun.sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Runs the host in a new worktree until the worktree's port shows up, then stops it with
 * `signal` and waits for it to exit: the port's events, newest first, and the host's session.
 */
async function session(
  name: string,
  argv: string[],
  signal: NodeJS.Signals,
  extra: Record<string, string> = {},
) {
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
  const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
  try {
    const a = await waitFor("the worktree's port", async () =>
      (await api<Allocation[]>("/v1/allocations")).find((x) => x.checkout === worktree),
    );
    const s = await waitFor("the prompt's heartbeat", async () => {
      const found = (await api<Session[]>("/v1/sessions")).find((x) => x.id === a.lease_session);
      return found?.heartbeat_at ? found : undefined;
    });
    proc.kill(signal);
    await proc.exited;
    const freed = await waitFor("the port freed", async () => {
      const events = await api<PortEvent[]>(`/v1/events?port=${a.port}`);
      return events[0]?.kind === "allocated" ? undefined : events;
    });
    return { a, session: s, events: freed };
  } finally {
    clearTimeout(timer);
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

const CODEX = ["exec", "--dangerously-bypass-hook-trust", "--skip-git-repo-check", "hi"];

/**
 * The host in a new worktree whose project declares no port (package.json removed there): the
 * session start holds nothing and sends no heartbeat, so a session in the registry can only be
 * the prompt hook's heartbeat. Its ttl, once it shows; the host is then killed.
 */
async function promptHeartbeat(name: string, argv: string[], extra: Record<string, string> = {}) {
  const worktree = join(home.root, `wt-${name}`);
  git(repo, "worktree", "add", "-q", worktree, "-b", name);
  rmSync(join(worktree, "package.json"));
  mkdirSync(join(home.root, ".codex"), { recursive: true });
  writeFileSync(
    join(home.root, ".codex/config.toml"),
    `[projects."${worktree}"]\ntrust_level = "trusted"\n`,
  );
  trustForGemini(home.root, worktree);
  const before = new Set((await api<Session[]>("/v1/sessions")).map((x) => x.id));
  const proc = Bun.spawn(argv, {
    cwd: worktree,
    env: { ...env, ...extra, PORT_SERVER_SESSION_TTL: "7m" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    return await waitFor("the prompt's heartbeat", async () =>
      (await api<Session[]>("/v1/sessions")).find((x) => !before.has(x.id)),
    );
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

describe("the prompt hooks of the other hosts send heartbeats", () => {
  test.skipIf(!codex)(
    "codex exec: UserPromptSubmit",
    async () => {
      const s = await promptHeartbeat("codex-beat", [codex as string, ...CODEX]);
      expect(s).toMatchObject({ ttl_seconds: 420, allocations: [] });
      expect(s.heartbeat_at).not.toBeNull();
    },
    180_000,
  );

  test.skipIf(!gemini)(
    "gemini -p: BeforeAgent",
    async () => {
      const s = await promptHeartbeat("gemini-beat", [gemini as string, "-p", "hi"], {
        GEMINI_API_KEY: "offline-test",
      });
      expect(s).toMatchObject({ ttl_seconds: 420, allocations: [] });
      expect(s.heartbeat_at).not.toBeNull();
    },
    180_000,
  );
});

describe("the session hooks of the other hosts", () => {
  test.skipIf(!codex)(
    "codex exec: the worktree's WEB_PORT held for Codex's session; Ctrl-C runs SessionEnd, which frees it",
    async () => {
      const r = await session("codex", [codex as string, ...CODEX], "SIGINT");
      expect(r.a).toMatchObject({ service: "web", instance: "wt-codex" });
      expect(r.a.lease_session).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.session.ttl_seconds).toBe(4 * 3600);
      expect(r.events[0]).toMatchObject({
        kind: "lease_ended",
        reason: `session ${r.a.lease_session} ended`,
      });
    },
    180_000,
  );

  test.skipIf(!gemini)(
    "gemini -p: the worktree's WEB_PORT held for Gemini's session; SIGTERM runs SessionEnd, which frees it",
    async () => {
      const r = await session("gemini", [gemini as string, "-p", "hi"], "SIGTERM", {
        GEMINI_API_KEY: "offline-test",
      });
      expect(r.a).toMatchObject({ service: "web", instance: "wt-gemini" });
      expect(r.a.lease_session).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.session.ttl_seconds).toBe(4 * 3600);
      expect(r.events[0]).toMatchObject({
        kind: "lease_ended",
        reason: `session ${r.a.lease_session} ended`,
      });
    },
    180_000,
  );

  test.skipIf(!codex)(
    "codex killed (no SessionEnd): the port goes when the heartbeat's ttl lapses",
    async () => {
      const r = await session("codex-killed", [codex as string, ...CODEX], "SIGKILL", {
        PORT_SERVER_SESSION_TTL: "3s",
      });
      expect(r.session.ttl_seconds).toBe(3);
      expect(r.events[0]).toMatchObject({
        kind: "lease_ended",
        reason: `session ${r.a.lease_session} sent no heartbeat for 3s`,
      });
    },
    180_000,
  );
});
