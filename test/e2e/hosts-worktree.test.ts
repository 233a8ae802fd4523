// Worktree removal and heartbeats as the real Claude Code (pinned in test/hosts) does them,
// offline and with no login:
// - `claude --worktree NAME` in a terminal (script(1) gives it one) starts an interactive session
//   in a new worktree (onboarding marked done, the folder trusted); `/exit` ends it and Claude
//   Code removes the unchanged worktree ("Worktree removed (no changes)"). The worktree's ports
//   go, the main checkout's stay. (`claude --bg` + `claude rm ID` removes the worktree only when
//   the job's state.json has recorded it, which in 2.1.332 it does in some runs and not others.)
// - Claude Code's WorktreeRemove contract, why `hooks install` writes no WorktreeRemove hook: it
//   is not run for Claude Code's own (git) worktrees, and for a worktree a WorktreeCreate hook
//   made it runs instead of Claude Code's own removal.
// - `claude -p --input-format stream-json` is a live session fed prompts on stdin: each prompt's
//   heartbeat (UserPromptSubmit, async) keeps the worktree's ports past the ttl; silence frees
//   them while the session still runs.
// Temp HOME, the daemon on port 0, every Claude Code process ended by the test.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation, PortEvent } from "../../src/core/model.ts";
import { runBinary } from "../helpers/binaries.ts";
import type { TempHome } from "../helpers/daemon.ts";
import { git } from "../helpers/git.ts";
import { type HooksFixture, hooksFixture, hostBin } from "../helpers/hosts.ts";

const claude = hostBin("claude");

let home: TempHome;
let env: Record<string, string>;
let fx: HooksFixture;
let bin = "";

beforeAll(async () => {
  if (!claude) return;
  fx = await hooksFixture("portctl-worktree-");
  ({ home, env } = fx);
  bin = fx.bin;
}, 120_000);

afterAll(async () => {
  await fx?.close();
});

const api = <T>(path: string) => fx.api<T>(path);

/** A repository with `portctl hooks install --claude` (or `settings`) committed, and trusted. */
async function project(name: string, settings?: unknown): Promise<string> {
  const repo = join(home.root, name);
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "package.json"), `{"scripts":{"dev":"vite"}}`);
  if (settings === undefined) {
    const r = await runBinary(join(bin, "portctl"), ["hooks", "install", "--claude"], {
      cwd: repo,
      env,
    });
    expect(r.stderr).toBe("");
  } else {
    mkdirSync(join(repo, ".claude"));
    writeFileSync(join(repo, ".claude/settings.json"), JSON.stringify(settings));
  }
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "project");
  const file = join(home.root, ".claude.json");
  const known = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { projects: {} };
  known.projects[repo] = { hasTrustDialogAccepted: true };
  // First-run screens done, as on a machine where Claude Code has been used.
  known.hasCompletedOnboarding = true;
  known.theme = "dark";
  writeFileSync(file, JSON.stringify(known));
  return repo;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await Bun.sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const held = async (checkout: string) =>
  (await api<Allocation[]>("/v1/allocations")).filter((a) => a.checkout === checkout);

/** `claude --worktree NAME` in a terminal until it is ready, then `/exit`: its output. */
async function interactive(repo: string, name: string, ready: () => Promise<boolean>) {
  const proc = Bun.spawn(["script", "-qfec", `'${claude}' --worktree ${name}`, "/dev/null"], {
    cwd: repo,
    env: { ...env, TERM: "xterm" },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let screen = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) screen += decoder.decode(chunk, { stream: true });
  })();
  const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
  try {
    // The prompt's status line, and whatever the test waits for (a hook's work).
    await waitFor("the session's prompt", async () =>
      plain(screen).includes("foragents") && (await ready()) ? true : undefined,
    );
    proc.stdin.write("/exit");
    proc.stdin.flush();
    await Bun.sleep(500);
    proc.stdin.write("\r");
    proc.stdin.flush();
    // A worktree Claude Code cannot judge (a WorktreeCreate hook made it) gets a question:
    // 1. Keep worktree, 2. Remove worktree. This test removes it.
    let asked = false;
    while (proc.exitCode === null && !asked) {
      asked = plain(screen).includes("2.Removeworktree");
      await Bun.sleep(200);
    }
    if (asked) {
      proc.stdin.write("2");
      proc.stdin.flush();
      await Bun.sleep(500);
      proc.stdin.write("\r");
      proc.stdin.flush();
    }
    await proc.exited;
    await reading;
  } finally {
    clearTimeout(timer);
    proc.kill("SIGKILL");
  }
  return plain(screen);
}

/** A terminal's output as text with no escape sequences and no blanks (it moves the cursor for spaces). */
function plain(screen: string): string {
  return screen.replace(ESCAPES, "").replace(/\s/g, "");
}

const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);
/** CSI sequences, OSC strings (ended by BEL or ESC \), charset picks and the one-byte ones. */
const ESCAPES = new RegExp(
  `${ESC}\\[[0-9;?<>=]*[a-zA-Z]|${ESC}\\][^${BEL}${ESC}]*(${BEL}|${ESC}\\\\)|${ESC}[()][A-Z0-9]|${ESC}[78=>]`,
  "g",
);

describe.skipIf(!claude)("Claude Code removes a worktree", () => {
  test("/exit: the unchanged worktree and its port go; the main checkout's port stays", async () => {
    const repo = await project("shop");
    const main = await runBinary(join(bin, "portctl"), ["allocate", "--service", "web"], {
      cwd: repo,
      env,
    });
    expect(main.code).toBe(0);
    const worktree = join(repo, ".claude/worktrees/feat");
    let a: Allocation | undefined;
    const screen = await interactive(repo, "feat", async () => {
      [a] = await held(worktree);
      return a !== undefined;
    });
    expect(a).toMatchObject({ service: "web", instance: "feat" });
    expect(a?.lease_session).toMatch(/^[0-9a-f-]{36}$/);
    expect(screen).toContain("Worktreeremoved(nochanges)");
    expect(existsSync(worktree)).toBe(false);
    expect(git(repo, "worktree", "list")).not.toContain("feat");
    await waitFor("the port freed", async () =>
      (await held(worktree)).length === 0 ? true : undefined,
    );
    const events = await api<PortEvent[]>(`/v1/events?port=${a?.port}`);
    // Claude Code removes the worktree, then runs SessionEnd in the main checkout: the hook
    // releases the session's port there, unless the daemon has already seen the folder gone.
    expect(events).toHaveLength(2);
    expect(events[1]?.kind).toBe("allocated");
    const end = events[0] as PortEvent;
    if (end.kind === "lease_ended") {
      expect(end.reason).toBe(
        `session ${a?.lease_session}: the checkout at ${worktree} no longer exists`,
      );
    } else expect(end.kind).toBe("released");
    console.log(
      `/exit: the port freed by ${end.kind === "released" ? "SessionEnd" : "the daemon"}`,
    );
    // The main checkout's port stays.
    const left = await api<Allocation[]>("/v1/allocations");
    expect(left.map((x) => [x.instance, x.service, x.checkout])).toEqual([["main", "web", repo]]);
  }, 180_000);

  // Why `hooks install` writes no WorktreeRemove hook: it never runs for Claude Code's own
  // worktrees, and for a worktree a WorktreeCreate hook made it replaces Claude Code's removal.
  test("WorktreeRemove: not run for Claude Code's own worktree; for a hook-made one it does the removal", async () => {
    const log = join(home.root, "worktree-hooks.log");
    const record = (what: string) => ({
      hooks: [{ type: "command", command: `cat >> ${log}; echo ' ${what}' >> ${log}` }],
    });
    // Claude Code's own worktree (git), with a WorktreeRemove hook configured.
    const own = await project("own", { hooks: { WorktreeRemove: [record("remove")] } });
    const ownScreen = await interactive(own, "a", async () => true);
    expect(ownScreen).toContain("Worktreeremoved(nochanges)");
    expect(existsSync(join(own, ".claude/worktrees/a"))).toBe(false);
    expect(existsSync(log)).toBe(false);

    // A WorktreeCreate hook's worktree, removed at the exit question: the WorktreeRemove hook
    // (which only records) runs, and Claude Code leaves the removal to it: the folder stays.
    const made = join(home.root, "made");
    const create = `cat >/dev/null; git worktree add -q -b made ${made} >&2 && echo ${made}`;
    const other = await project("other", {
      hooks: {
        WorktreeCreate: [{ hooks: [{ type: "command", command: create }] }],
        WorktreeRemove: [record("remove")],
      },
    });
    const otherScreen = await interactive(other, "b", async () => existsSync(made));
    expect(otherScreen).toContain("Worktreeremoved.");
    const ran = readFileSync(log, "utf8");
    expect(ran).toContain('"hook_event_name":"WorktreeRemove"');
    expect(ran).toContain(`"worktree_path":"${made}"`);
    expect(existsSync(made)).toBe(true);
    git(other, "worktree", "remove", "--force", made);
  }, 180_000);
});

describe.skipIf(!claude)("heartbeats from a live Claude Code session", () => {
  test("each prompt keeps the worktree's port past the ttl; silence lets it go", async () => {
    const repo = await project("beats");
    const worktree = join(repo, ".claude/worktrees/hb");
    const ttl = 5;
    const proc = Bun.spawn(
      [
        claude as string,
        "-p",
        "--worktree",
        "hb",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
      ],
      {
        cwd: repo,
        env: { ...env, PORT_SERVER_SESSION_TTL: `${ttl}s` },
        stdin: "pipe",
        stdout: "ignore",
        stderr: "ignore",
      },
    );
    const prompt = (text: string) => {
      proc.stdin.write(
        `${JSON.stringify({ type: "user", message: { role: "user", content: text } })}\n`,
      );
      proc.stdin.flush();
    };
    try {
      prompt("start");
      const [a] = await waitFor("the worktree's port", async () => {
        const rows = await held(worktree);
        return rows.length > 0 ? rows : undefined;
      });
      const session = a?.lease_session as string;
      // Three times the ttl, a prompt a second: the port stays.
      const until = Date.now() + 3 * ttl * 1000;
      while (Date.now() < until) {
        prompt("still here");
        await Bun.sleep(1000);
      }
      expect((await held(worktree)).map((x) => x.id)).toEqual([a?.id as number]);
      // No prompt for longer than the ttl, the session still running: the port goes.
      await waitFor("the silent session's port freed", async () =>
        (await held(worktree)).length === 0 ? true : undefined,
      );
      expect(proc.exitCode).toBeNull();
      const events = await api<PortEvent[]>(`/v1/events?port=${a?.port}`);
      expect(events[0]).toMatchObject({
        kind: "lease_ended",
        reason: `session ${session} sent no heartbeat for ${ttl}s`,
      });
    } finally {
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await proc.exited;
      clearTimeout(timer);
    }
  }, 180_000);
});
