// `portctl hooks install` (each host's file merged, a broken one refused untouched) and the hook
// commands it writes, run in-process with the host's JSON on stdin: a session starting in a
// linked worktree gets the project's ports held for it (Claude Code: export lines in
// CLAUDE_ENV_FILE); ending it, or removing the worktree, frees them; the main checkout's stay.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/program.ts";
import { type CliFixture, captureIo, cliFixture } from "../helpers/cli.ts";
import { git, makeRepo, type Repo } from "../helpers/git.ts";

let f: CliFixture;
let repo: Repo;
beforeAll(async () => {
  f = await cliFixture();
  const parent = join(f.home.root, "repos");
  mkdirSync(parent);
  const main = join(parent, "shop");
  mkdirSync(main);
  writeFileSync(join(main, "package.json"), `{"scripts":{"dev":"vite"}}`);
  writeFileSync(
    join(main, "compose.yaml"),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, not ours
    'services:\n  db:\n    image: postgres\n    ports: ["${DB_PORT:-5432}:5432"]\n',
  );
  repo = makeRepo(parent, "shop");
  git(repo.main, "add", ".");
  git(repo.main, "commit", "-q", "-m", "project");
  git(repo.worktree, "checkout", "-q", "--detach", "main");
}, 60_000);
afterAll(() => f.close());

async function hook(argv: string[], input: unknown, env: Record<string, string> = {}) {
  const io = captureIo({ env: { ...f.env, ...env }, cwd: f.home.root, home: f.home.root });
  io.readStdin = async () => (typeof input === "string" ? input : JSON.stringify(input));
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

const ports = async () =>
  (await f.allocations()).map((a) => `${a.instance}/${a.service}:${a.lease_session ?? "-"}`).sort();

describe("session start / end as hooks", () => {
  test("main checkout: the project's ports, for good; a linked worktree: the session's", async () => {
    const main = await hook(["session", "start", "--hook", "codex"], {
      session_id: "m-1",
      cwd: repo.main,
    });
    expect(main.code).toBe(0);
    const context = JSON.parse(main.out.join("\n")).hookSpecificOutput;
    expect(context.hookEventName).toBe("SessionStart");
    expect(context.additionalContext).toMatch(/DB_PORT=\d+ WEB_PORT=\d+$/);

    const envFile = join(f.home.root, "claude-env.sh");
    writeFileSync(envFile, "");
    const wt = await hook(
      ["session", "start", "--hook", "claude"],
      { session_id: "s-1", cwd: repo.worktree, hook_event_name: "SessionStart" },
      { CLAUDE_ENV_FILE: envFile },
    );
    expect(wt.err).toEqual([]);
    expect(readFileSync(envFile, "utf8")).toMatch(/^export DB_PORT=\d+\nexport WEB_PORT=\d+\n$/);
    expect(await ports()).toEqual([
      "main/db:-",
      "main/web:-",
      "wt-feature/db:s-1",
      "wt-feature/web:s-1",
    ]);

    // Ending a session in the main checkout never frees anything there, even a port someone
    // tied to that session by hand.
    await f.run(["-C", repo.main, "allocate", "--service", "tmp", "--lease-session", "m-1"]);
    await hook(["session", "end", "--hook", "claude"], { session_id: "m-1", cwd: repo.main });
    expect(await ports()).toHaveLength(5);
    await f.run(["session", "end", "m-1"]);
    expect(await ports()).toHaveLength(4);
    const end = await hook(["session", "end", "--hook", "claude"], {
      session_id: "s-1",
      cwd: repo.worktree,
      hook_event_name: "SessionEnd",
    });
    expect(end).toEqual({
      code: 0,
      out: [],
      err: ["port-server: released 2 port(s) of session s-1"],
    });
    expect(await ports()).toEqual(["main/db:-", "main/web:-"]);
  });

  test("SessionEnd run in the main checkout (Claude Code, after leaving the worktree) frees the session's ports elsewhere", async () => {
    await hook(["session", "start", "--hook", "claude"], { session_id: "s-2", cwd: repo.worktree });
    await f.run(["-C", repo.main, "allocate", "--service", "tied", "--lease-session", "s-2"]);
    expect(await ports()).toHaveLength(5);
    const end = await hook(["session", "end", "--hook", "claude"], {
      session_id: "s-2",
      cwd: repo.main,
      hook_event_name: "SessionEnd",
    });
    expect(end).toEqual({
      code: 0,
      out: [],
      err: ["port-server: released 2 port(s) of session s-2"],
    });
    // The main checkout's, even one tied to the session by hand, stay.
    expect(await ports()).toEqual(["main/db:-", "main/tied:s-2", "main/web:-"]);
    await f.run(["session", "end", "s-2"]);
    expect(await ports()).toEqual(["main/db:-", "main/web:-"]);
  });

  test("heartbeats: a linked worktree's session kept for the ttl; the main checkout asks nothing", async () => {
    const sessions = async () =>
      JSON.parse((await f.run(["session", "list", "--json"])).out.join("\n")) as {
        id: string;
        ttl_seconds: number | null;
        heartbeat_at: string | null;
        allocations: unknown[];
      }[];
    const start = await hook(["session", "start", "--hook", "claude"], {
      session_id: "hb-1",
      cwd: repo.worktree,
    });
    expect(start.err).toEqual([]);
    // The start itself sets the ttl: a host killed before its first prompt still lets go.
    const started = (await sessions()).find((x) => x.id === "hb-1");
    expect(started).toMatchObject({ ttl_seconds: 4 * 3600 });
    expect(started?.allocations).toHaveLength(2);
    const beat = await hook(
      ["session", "heartbeat", "--hook", "claude"],
      { session_id: "hb-1", cwd: repo.worktree, hook_event_name: "UserPromptSubmit" },
      { PORT_SERVER_SESSION_TTL: "90s" },
    );
    expect(beat).toEqual({ code: 0, out: [], err: [] });
    expect((await sessions()).find((x) => x.id === "hb-1")?.ttl_seconds).toBe(90);
    const main = await hook(["session", "heartbeat", "--hook", "codex"], {
      session_id: "hb-main",
      cwd: repo.main,
    });
    expect(main).toEqual({ code: 0, out: [], err: [] });
    expect((await sessions()).map((x) => x.id)).not.toContain("hb-main");
    const bad = await hook(
      ["session", "heartbeat", "--hook", "gemini"],
      { session_id: "hb-1", cwd: repo.worktree },
      { PORT_SERVER_SESSION_TTL: "forever" },
    );
    expect(bad).toEqual({
      code: 0,
      out: [],
      err: [
        "port-server: PORT_SERVER_SESSION_TTL=forever is not a duration such as 30m or 4h; using 4h",
      ],
    });
    expect((await sessions()).find((x) => x.id === "hb-1")?.ttl_seconds).toBe(4 * 3600);
    const down = await hook(
      ["session", "heartbeat", "--hook", "claude"],
      { session_id: "hb-1", cwd: repo.worktree },
      { PORT_SERVER_ADDR: "127.0.0.1:1" },
    );
    expect(down).toEqual({
      code: 0,
      out: [],
      err: ["port-server is not running — start it with: portctl start"],
    });
    await f.run(["session", "end", "hb-1"]);
    expect(await ports()).toEqual(["main/db:-", "main/web:-"]);
  });

  test("WorktreeRemove of a deleted worktree frees it; naming the main checkout frees nothing", async () => {
    await f.run(["-C", repo.worktree, "allocate", "--service", "cache"]);
    await hook(["session", "end", "--hook", "claude"], {
      session_id: "x",
      hook_event_name: "WorktreeRemove",
      worktree_path: repo.main,
    });
    expect(await ports()).toHaveLength(3);
    rmSync(repo.worktree, { recursive: true, force: true });
    const r = await hook(["session", "end", "--hook", "claude"], {
      session_id: "x",
      hook_event_name: "WorktreeRemove",
      worktree_path: repo.worktree,
    });
    expect(r.err).toEqual([`port-server: released 1 port(s) of ${repo.worktree}`]);
    expect(await ports()).toEqual(["main/db:-", "main/web:-"]);
  });

  test("bad input or no daemon: one line, exit 0, nothing on stdout", async () => {
    for (const input of [
      "not json",
      "[]",
      { session_id: "../x" },
      { session_id: "a", cwd: "rel" },
    ]) {
      const r = await hook(["session", "start", "--hook", "gemini"], input);
      expect(r.code).toBe(0);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toStartWith("port-server: the hook's ");
    }
    const down = await hook(
      ["session", "start", "--hook", "claude"],
      { session_id: "s", cwd: repo.main },
      { PORT_SERVER_ADDR: "127.0.0.1:1" },
    );
    expect(down).toEqual({
      code: 0,
      out: [],
      err: ["port-server is not running — start it with: portctl start"],
    });
  });
});

describe("portctl hooks install", () => {
  test("merged into each host's file; our entries replaced, the user's kept", async () => {
    const dir = join(f.home.root, "proj");
    mkdirSync(join(dir, ".claude"), { recursive: true });
    const mine = { type: "command", command: "echo hi" };
    // An earlier install wrote a WorktreeRemove hook: ours goes, the user's stays.
    const oldOurs = { type: "command", command: "portctl session end --hook claude" };
    const theirs = { type: "command", command: "wt remove" };
    writeFileSync(
      join(dir, ".claude/settings.json"),
      JSON.stringify(
        {
          model: "x",
          hooks: {
            SessionStart: [{ hooks: [mine] }],
            WorktreeRemove: [{ hooks: [oldOurs] }, { hooks: [theirs] }],
            Notification: [{ hooks: [oldOurs] }],
          },
        },
        null,
        4,
      ),
    );
    const r = await f.run(["hooks", "install", "--claude", "--codex", "--gemini"], { cwd: dir });
    expect(r.err).toEqual([]);
    expect(r.out.slice(0, 3)).toEqual([
      `Claude Code: wrote SessionStart, UserPromptSubmit, PostToolUse, SessionEnd hooks in ${join(dir, ".claude/settings.json")}`,
      `Codex: wrote SessionStart, UserPromptSubmit, SessionEnd hooks in ${join(dir, ".codex/hooks.json")}`,
      `Gemini CLI: wrote SessionStart, BeforeAgent, SessionEnd hooks in ${join(dir, ".gemini/settings.json")}`,
    ]);
    // From source the command is bun and main.ts: said once.
    expect(r.out[3]).toStartWith("note: the hooks name ");
    const text = readFileSync(join(dir, ".claude/settings.json"), "utf8");
    expect(text).toStartWith('{\n    "model": "x",');
    const claude = JSON.parse(text);
    expect(claude.hooks.SessionStart).toHaveLength(2);
    expect(claude.hooks.SessionStart[0].hooks[0]).toEqual(mine);
    expect(claude.hooks.SessionStart[1].hooks[0].command).toEndWith(" session start --hook claude");
    expect(claude.hooks.WorktreeRemove).toEqual([{ hooks: [theirs] }]);
    expect(claude.hooks.Notification).toBeUndefined();
    expect(claude.hooks.SessionEnd[0].hooks[0].command).toEndWith(" session end --hook claude");
    // Heartbeats: on each prompt and tool use, in the background.
    for (const event of ["UserPromptSubmit", "PostToolUse"]) {
      expect(claude.hooks[event][0].hooks[0]).toMatchObject({ async: true, timeout: 30 });
      expect(claude.hooks[event][0].hooks[0].command).toEndWith(" session heartbeat --hook claude");
    }
    expect(claude.hooks.SessionStart[1].hooks[0].async).toBeUndefined();
    const gemini = JSON.parse(readFileSync(join(dir, ".gemini/settings.json"), "utf8"));
    expect(gemini.hooks.SessionStart[0].hooks[0]).toMatchObject({
      name: "port-server",
      timeout: 30_000,
    });
    expect(gemini.hooks.BeforeAgent[0].hooks[0].command).toEndWith(
      " session heartbeat --hook gemini",
    );
    const codex = JSON.parse(readFileSync(join(dir, ".codex/hooks.json"), "utf8"));
    expect(codex.hooks.UserPromptSubmit[0].hooks[0].command).toEndWith(
      " session heartbeat --hook codex",
    );

    const again = await f.run(["hooks", "install", "--claude"], { cwd: dir });
    expect(again.out[0]).toStartWith("Claude Code: already up to date: ");
    expect(readFileSync(join(dir, ".claude/settings.json"), "utf8")).toBe(text);
  });

  test("a file that is not a JSON object is refused and left as it was; --global writes home", async () => {
    const dir = join(f.home.root, "broken");
    mkdirSync(join(dir, ".gemini"), { recursive: true });
    writeFileSync(join(dir, ".gemini/settings.json"), "{ oops");
    const r = await f.run(["hooks", "install", "--gemini", "--claude"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toStartWith(
      `Gemini CLI: failed: cannot update ${join(dir, ".gemini/settings.json")}: it is not valid JSON`,
    );
    expect(readFileSync(join(dir, ".gemini/settings.json"), "utf8")).toBe("{ oops");

    const g = await f.run(["hooks", "install", "--global", "--codex"], { cwd: dir });
    expect(g.out).toEqual([
      `Codex: wrote SessionStart, UserPromptSubmit, SessionEnd hooks in ${join(f.home.root, ".codex/hooks.json")}`,
    ]);
    const none = await f.run(["hooks", "install"], { cwd: dir });
    expect(none.err[0]).toBe(
      "error: choose a host: --claude, --codex or --gemini (or --print with one of them)",
    );
  });
});
