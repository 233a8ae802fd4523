// The daemon lifecycle under pressure, on the compiled binaries: five `portctl start` at once
// leave exactly one daemon, and a stale PID file naming a live stranger never gets it signalled.
// (test/e2e/cli.test.ts checks the messages; here the point is the process table.)
import { afterEach, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinaries, runBinary } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import { daemonPids, isAlive, killHard, waitUntil } from "../helpers/processes.ts";

let portctl = "";
beforeAll(async () => {
  portctl = join(await builtBinaries(), "portctl");
}, 120_000);

interface Sandbox {
  home: TempHome;
  port: number;
  pidFile: string;
  env: Record<string, string>;
}
const sandboxes: Sandbox[] = [];

function sandbox(): Sandbox {
  const home = tempHome("port-server-lifecycle-");
  const port = freePort();
  const sb = {
    home,
    port,
    pidFile: join(home.state, "port-server.pid"),
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home.root,
      PORT_SERVER_HOME: home.state,
      PORT_SERVER_ADDR: `127.0.0.1:${port}`,
    },
  };
  sandboxes.push(sb);
  return sb;
}

afterEach(async () => {
  for (const sb of sandboxes.splice(0)) {
    await run(sb, ["stop"]);
    for (const pid of daemonPids(sb.port)) killHard(pid);
    sb.home.cleanup();
  }
}, 30_000);

/** Runs portctl to completion, stdout and stderr together. */
async function run(sb: Sandbox, args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await runBinary(portctl, args, { cwd: sb.home.root, env: sb.env });
  return { code: r.code, out: r.stdout + r.stderr };
}

test("five `portctl start` at once: exactly one port-server process for the port", async () => {
  const sb = sandbox();
  const runs = await Promise.all(Array.from({ length: 5 }, () => run(sb, ["start"])));

  // The losers' daemons exit once they fail to bind; give them a moment to be gone.
  await waitUntil(() => daemonPids(sb.port).length <= 1, 5000);
  const pids = daemonPids(sb.port);
  expect(pids).toHaveLength(1);
  const pid = pids[0] as number;
  expect(runs.filter((r) => r.code === 0)).toHaveLength(1);
  // Every start, winner or loser, names the one daemon that runs.
  for (const r of runs) expect(r.out).toContain(`pid ${pid})`);
  expect(readFileSync(sb.pidFile, "utf8")).toBe(`${pid}\n`);

  expect(await run(sb, ["stop"])).toEqual({ code: 0, out: `port-server stopped (pid ${pid})\n` });
  expect(daemonPids(sb.port)).toEqual([]);
}, 60_000);

test("a stale PID file naming a live, unrelated process: `portctl stop` never signals it", async () => {
  const sb = sandbox();
  const sleeper = Bun.spawn(["sleep", "30"], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    mkdirSync(sb.home.state, { recursive: true });
    writeFileSync(sb.pidFile, `${sleeper.pid}\n`);

    const stop = await run(sb, ["stop"]);

    expect(stop.code).toBe(1);
    expect(stop.out).toContain(`pid ${sleeper.pid}`);
    await Bun.sleep(100); // a signal, had one been sent, would have landed by now
    expect(isAlive(sleeper.pid)).toBe(true);
    expect(sleeper.exitCode).toBeNull();
    expect(sleeper.signalCode).toBeNull();
    expect(daemonPids(sb.port)).toEqual([]);
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.exited;
  }
}, 30_000);
