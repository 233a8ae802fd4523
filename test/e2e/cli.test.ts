// The compiled binaries end to end: the seed's quick start, exit codes, the daemon lifecycle
// (concurrent starts, a killed daemon, a PID file naming someone else's process) and app/instance
// detection in a git worktree. Each test owns a temp HOME/PORT_SERVER_HOME and a free port, and
// leaves no daemon behind: `portctl stop`, then SIGKILL by PID file and by command line.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { type BinaryRun, runBinary } from "../helpers/binaries.ts";
import { ESC, firstBindablePort, freePort, NOT_RUNNING_LINE, shiftedTime } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import { makeRepo } from "../helpers/git.ts";
import { daemonPids, isAlive, killHard, waitUntil } from "../helpers/processes.ts";

const ROOT = join(import.meta.dir, "../..");
const RUN_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

let buildDir = "";
let bin = "";
beforeAll(() => {
  buildDir = mkdtempSync(join(tmpdir(), "portctl-e2e-bin-"));
  const build = Bun.spawnSync(
    [process.execPath, join(ROOT, "scripts/build.ts"), "--outdir", buildDir],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 120_000 },
  );
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  bin = join(buildDir, "portctl");
}, 120_000);
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

interface Sandbox {
  home: TempHome;
  port: number;
  /** `<home>/<app>`, outside any git checkout. */
  cwd: string;
  pidFile: string;
  env: Record<string, string>;
}

const sandboxes: Sandbox[] = [];

function sandbox(app = "myapp"): Sandbox {
  const home = tempHome("portctl-e2e-");
  const cwd = join(home.root, app);
  mkdirSync(cwd);
  const port = freePort();
  const sb: Sandbox = {
    home,
    port,
    cwd,
    pidFile: join(home.state, "port-server.pid"),
    // No inherited PORT_SERVER_*, NO_COLOR or TERM: only what the test decides.
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home.root,
      PORT_SERVER_HOME: home.state,
      PORT_SERVER_ADDR: `127.0.0.1:${port}`,
      TZ: "Asia/Kolkata", // +05:30 all year: local time is computable without the OS
    },
  };
  sandboxes.push(sb);
  return sb;
}

afterEach(async () => {
  for (const sb of sandboxes.splice(0)) {
    await portctl(sb, ["stop"]);
    const leftovers = [readPid(sb), ...daemonPids(sb.port)];
    for (const pid of leftovers) if (pid !== undefined) killHard(pid);
    sb.home.cleanup();
  }
}, 30_000);

type Run = BinaryRun;

/** Runs the compiled portctl to completion (killed after RUN_TIMEOUT_MS). */
function portctl(sb: Sandbox, args: string[], cwd = sb.cwd): Promise<Run> {
  return runBinary(bin, args, { cwd, env: sb.env, timeoutMs: RUN_TIMEOUT_MS });
}

/** `portctl start`, asserted successful; returns the daemon's pid. */
async function start(sb: Sandbox): Promise<number> {
  const run = await portctl(sb, ["start"]);
  expect(run).toMatchObject({ code: 0, stderr: "" });
  const m = /^port-server started \(pid (\d+)\)\n$/.exec(run.stdout);
  expect(m).not.toBeNull();
  return Number(m?.[1]);
}

const lines = (s: string) => s.replace(/\n$/, "").split("\n");

describe("the seed's quick start", () => {
  test(
    "start, allocate, list, check, release, check, stop",
    async () => {
      const sb = sandbox("myapp");
      const first = firstBindablePort(3000);
      const web = firstBindablePort(8080);
      const pid = await start(sb);
      expect(readPid(sb)).toBe(pid);

      const pg = await portctl(sb, ["allocate", "--instance", "dev", "--service", "postgres"]);
      expect(pg).toEqual({
        code: 0,
        stdout: `allocated port ${first} (id=1) for myapp/dev/postgres\n`,
        stderr: "",
      });
      const w = await portctl(sb, [
        "allocate",
        "--instance",
        "dev",
        "--service",
        "web",
        "--port",
        String(web),
      ]);
      expect(w).toEqual({
        code: 0,
        stdout: `allocated port ${web} (id=2) for myapp/dev/web\n`,
        stderr: "",
      });

      const rows = JSON.parse((await portctl(sb, ["list", "--json"])).stdout) as Allocation[];
      const [t1, t2] = rows.map((a) => shiftedTime(a.created_at, 330));
      const list = await portctl(sb, ["list"]);
      expect(list.code).toBe(0);
      expect(lines(list.stdout)).toEqual([
        "ID  APP    INSTANCE  SERVICE   PORT  CREATED              LISTENING",
        `1   myapp  dev       postgres  ${first}  ${t1}  no`,
        `2   myapp  dev       web       ${web}  ${t2}  no`,
      ]);

      const taken = await portctl(sb, ["check", "--port", String(first)]);
      expect(taken).toEqual({
        code: 1,
        stdout: `port ${first} is allocated to myapp/dev/postgres (id=1)\n`,
        stderr: "",
      });
      const released = await portctl(sb, ["release", "--id", "1"]);
      expect(released).toEqual({ code: 0, stdout: "released allocation 1\n", stderr: "" });
      // Free again, and it says what became of its last owner (the history).
      const free = await portctl(sb, ["check", "--port", String(first)]);
      expect(free).toMatchObject({ code: 0, stderr: "" });
      expect(free.stdout).toMatch(
        new RegExp(
          `^port ${first} is available \\(released (just now|\\d+ s ago) from myapp/dev/postgres\\)\n$`,
        ),
      );

      const stop = await portctl(sb, ["stop"]);
      expect(stop).toEqual({ code: 0, stdout: `port-server stopped (pid ${pid})\n`, stderr: "" });
      expect(isAlive(pid)).toBe(false);
      expect(existsSync(sb.pidFile)).toBe(false);
      // Piped output is never coloured.
      const all = [pg, w, list, taken, released, free, stop].map((r) => r.stdout + r.stderr);
      expect(all.join("")).not.toContain(ESC);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("exit codes", () => {
  test(
    "every command, with and without a daemon",
    async () => {
      const sb = sandbox();
      const down = async (args: string[]) =>
        expect(await portctl(sb, args)).toEqual({
          code: 1,
          stdout: "",
          stderr: `${NOT_RUNNING_LINE}\n`,
        });
      for (const args of [
        ["health"],
        ["allocate", "--service", "web"],
        ["list"],
        ["check", "--port", "3000"],
        ["release", "--id", "1"],
      ]) {
        await down(args);
      }
      expect(await portctl(sb, ["stop"])).toEqual({
        code: 1,
        stdout: "",
        stderr: "port-server is not running\n",
      });
      const idle = await portctl(sb, ["status"]);
      expect(idle.code).toBe(0);
      expect(lines(idle.stdout)[0]).toBe(
        "port-server is not running (start it with: portctl start)",
      );

      const pid = await start(sb);
      expect(await portctl(sb, ["start"])).toEqual({
        code: 1,
        stdout: "",
        stderr: `port-server is already running (pid ${pid})\n`,
      });
      const status = await portctl(sb, ["status"]);
      expect(status.code).toBe(0);
      expect(lines(status.stdout)[0]).toStartWith(`port-server is running (pid ${pid}, `);
      const health = await portctl(sb, ["health"]);
      expect(health.code).toBe(0);
      expect(health.stdout).toStartWith(`port-server is healthy (pid ${pid}, `);
      const version = await portctl(sb, ["version"]);
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(/^portctl \S+/);
      expect(await portctl(sb, ["frob"])).toMatchObject({ code: 1, stdout: "" });

      expect((await portctl(sb, ["stop"])).code).toBe(0);
      expect((await portctl(sb, ["stop"])).code).toBe(1);
      expect((await portctl(sb, ["status"])).code).toBe(0);
      expect((await portctl(sb, ["health"])).code).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("daemon lifecycle", () => {
  test(
    "five concurrent starts: one daemon, one success, four 'already running' with its pid",
    async () => {
      const sb = sandbox();
      const runs = await Promise.all(Array.from({ length: 5 }, () => portctl(sb, ["start"])));
      const winners = runs.filter((r) => r.code === 0);
      expect(winners).toHaveLength(1);
      const m = /^port-server started \(pid (\d+)\)\n$/.exec(winners[0]?.stdout ?? "");
      const pid = Number(m?.[1]);
      expect(pid).toBeGreaterThan(1);
      const losers = runs.filter((r) => r.code !== 0);
      const refusal = {
        code: 1,
        stdout: "",
        stderr: `port-server is already running (pid ${pid})\n`,
      };
      expect(losers).toEqual([refusal, refusal, refusal, refusal]);

      expect(readPid(sb)).toBe(pid);
      // Each losing start waited for the daemon it spawned to find the folder locked and exit:
      // one left starting would take the folder over once the winner stops.
      expect(daemonPids(sb.port)).toEqual([pid]);
      expect((await portctl(sb, ["health"])).stdout).toContain(`(pid ${pid}, `);
      expect((await portctl(sb, ["stop"])).code).toBe(0);
      await Bun.sleep(1000);
      expect(daemonPids(sb.port)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a daemon killed with SIGKILL: status cleans its PID file, start works again",
    async () => {
      const sb = sandbox();
      const pid = await start(sb);
      process.kill(pid, "SIGKILL");
      await waitUntil(() => !isAlive(pid), 5000);
      expect(readPid(sb)).toBe(pid); // no chance to clean up

      const status = await portctl(sb, ["status"]);
      expect(status.code).toBe(0);
      expect(status.stderr).toBe("");
      expect(lines(status.stdout).slice(0, 2)).toEqual([
        `removed stale PID file (pid ${pid} is not running)`,
        "port-server is not running (start it with: portctl start)",
      ]);
      expect(existsSync(sb.pidFile)).toBe(false);

      const again = await start(sb);
      expect(readPid(sb)).toBe(again);
      expect((await portctl(sb, ["health"])).stdout).toContain(`(pid ${again}, `);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a PID file naming a live unrelated process: never signalled; restart still works",
    async () => {
      const sb = sandbox();
      const sleeper = Bun.spawn(["sleep", "30"], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      try {
        const plant = () => {
          mkdirSync(sb.home.state, { recursive: true });
          writeFileSync(sb.pidFile, `${sleeper.pid}\n`);
        };
        plant();
        expect(await portctl(sb, ["stop"])).toEqual({
          code: 1,
          stdout: "",
          stderr: `port-server is not running (removed stale PID file: pid ${sleeper.pid} is not port-server)\n`,
        });
        expect(isAlive(sleeper.pid)).toBe(true);
        expect(existsSync(sb.pidFile)).toBe(false);

        plant();
        const status = await portctl(sb, ["status"]);
        expect(status.code).toBe(0);
        expect(lines(status.stdout)[0]).toBe(
          `removed stale PID file (pid ${sleeper.pid} is not port-server)`,
        );
        expect(isAlive(sleeper.pid)).toBe(true);

        plant();
        const restart = await portctl(sb, ["restart"]);
        expect(restart.code).toBe(0);
        const m = /^port-server started \(pid (\d+)\)\n$/.exec(restart.stdout);
        expect(Number(m?.[1])).toBe(readPid(sb) ?? -1);
        expect(isAlive(sleeper.pid)).toBe(true);
        expect(sleeper.exitCode).toBeNull();
      } finally {
        sleeper.kill("SIGKILL");
        await sleeper.exited;
      }
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "restart of a running daemon: the old one stops, a new one answers",
    async () => {
      const sb = sandbox();
      const old = await start(sb);
      const restart = await portctl(sb, ["restart"]);
      expect(restart.code).toBe(0);
      const m = /^port-server stopped \(pid (\d+)\)\nport-server started \(pid (\d+)\)\n$/.exec(
        restart.stdout,
      );
      expect(Number(m?.[1])).toBe(old);
      const pid = Number(m?.[2]);
      expect(pid).not.toBe(old);
      expect(isAlive(old)).toBe(false);
      expect(readPid(sb)).toBe(pid);
      expect(daemonPids(sb.port)).toEqual([pid]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("app and instance from git", () => {
  test(
    "the main checkout and a linked worktree: one app, two instances",
    async () => {
      const sb = sandbox();
      const repo = makeRepo(sb.home.root, "shop", "main");
      await start(sb);
      const main = await portctl(sb, ["allocate", "--service", "web"], repo.main);
      const tree = await portctl(sb, ["allocate", "--service", "web"], repo.worktree);
      expect(main.stdout).toMatch(/^allocated port \d+ \(id=1\) for shop\/main\/web\n$/);
      expect(tree.stdout).toMatch(/^allocated port \d+ \(id=2\) for shop\/wt-feature\/web\n$/);

      const listed = await portctl(sb, ["list", "--json"], repo.worktree);
      const rows = JSON.parse(listed.stdout) as Allocation[];
      expect(rows.map((a) => [a.app, a.instance, a.service])).toEqual([
        ["shop", "main", "web"],
        ["shop", "wt-feature", "web"],
      ]);
      expect(rows[0]?.port).not.toBe(rows[1]?.port);
    },
    TEST_TIMEOUT_MS,
  );
});

// --- internal ---

function readPid(sb: Sandbox): number | undefined {
  try {
    const n = Number(readFileSync(sb.pidFile, "utf8").trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}
