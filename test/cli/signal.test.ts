// Exploits 1 and 2 of issue #11: `portctl stop`/`restart` signal a pid only once it is proved to
// be this registry's daemon (an integer > 1, a port-server executable, and the /healthz of our
// address reports that pid and our database). Whatever answers on the port, whatever the PID
// file names, nothing else is ever signalled.
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statePaths } from "../../src/core/config.ts";
import { freePort, runIn } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { startDaemon, stopAllDaemons, type TempHome, tempHome } from "../helpers/daemon.ts";
import { type Impostor, impostor } from "../helpers/impostor.ts";
import { isAlive } from "../helpers/processes.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await stopAllDaemons();
});

function home(): TempHome {
  const h = tempHome("portctl-signal-");
  cleanups.push(() => h.cleanup());
  return h;
}

const portctl = runIn;

/** A process of ours that must survive: `cmd` (default `sleep 30`). */
function bystander(cmd = ["sleep", "30"]) {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  cleanups.push(async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  });
  return proc;
}

function fake(health: Record<string, unknown>): Impostor {
  const f = impostor({ health });
  cleanups.push(() => f.stop());
  return f;
}

function plantPidFile(h: TempHome, pid: number): void {
  mkdirSync(h.state, { recursive: true, mode: 0o700 });
  writeFileSync(statePaths(h.env).pid, `${pid}\n`);
}

async function expectAlive(proc: { pid: number; exitCode: number | null; signalCode: unknown }) {
  await Bun.sleep(100); // a signal, had one been sent, would have landed by now
  expect(isAlive(proc.pid)).toBe(true);
  expect(proc.signalCode).toBeNull();
}

describe("a fake /healthz naming another process (exploit 1)", () => {
  test.each([["stop"], ["restart"]])(
    "%s refuses with one line naming the pid; the process lives",
    async (cmd) => {
      const h = home();
      const victim = bystander();
      // It even names our database: the executable check still tells it apart.
      const f = fake({ status: "ok", pid: victim.pid, db: statePaths(h.env).db });
      const r = await portctl(h, f.port, [cmd]);
      expect(r.code).toBe(1);
      expect(r.out).toEqual([]);
      expect(r.err).toEqual([
        `error: refusing to stop pid ${victim.pid}: it is not a port-server executable (${Bun.which("sleep")})`,
      ]);
      await expectAlive(victim);
    },
  );

  test.each([[-1], [0], [1], ["1234"], [2.5], [null]])(
    '"pid": %p is refused and nothing at all is signalled',
    async (pid) => {
      const h = home();
      const f = fake({ status: "ok", pid, db: statePaths(h.env).db });
      // Intercepted, so that a regression could never kill(-1) every process of the user.
      const signals: unknown[][] = [];
      const kill = spyOn(process, "kill").mockImplementation((...args: unknown[]) => {
        signals.push(args);
        return true;
      });
      try {
        const r = await portctl(h, f.port, ["stop"]);
        expect(r.code).toBe(1);
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toStartWith(`error: refusing to stop pid ${JSON.stringify(pid)}: `);
      } finally {
        kill.mockRestore();
      }
      expect(signals.filter(([, sig]) => sig !== 0 && sig !== undefined)).toEqual([]);
    },
  );

  test("status says what answers is not this registry's daemon, and why", async () => {
    const h = home();
    const victim = bystander();
    const f = fake({ status: "ok", pid: victim.pid, version: "9.9.9", db: "/elsewhere/ports.db" });
    const r = await portctl(h, f.port, ["status"]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(
      `port-server at http://127.0.0.1:${f.port} is not this registry's daemon (pid ${victim.pid}: it is not a port-server executable (${Bun.which("sleep")}))`,
    );
    const json = await portctl(h, f.port, ["status", "--json"]);
    expect(JSON.parse(json.out.join("\n"))).toMatchObject({ running: false, ours: false });
  });
});

describe("a PID file naming an unrelated process (exploit 2)", () => {
  test("`tail -f …/src/server/main.ts` is not port-server: stop removes the file, signals nothing", async () => {
    const h = home();
    const decoyFile = join(h.root, "x/src/server/main.ts");
    mkdirSync(join(h.root, "x/src/server"), { recursive: true });
    writeFileSync(decoyFile, "// not a daemon\n");
    const decoy = bystander(["tail", "-f", decoyFile]);
    plantPidFile(h, decoy.pid);
    const r = await portctl(h, freePort(), ["stop"]);
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `port-server is not running (removed stale PID file: pid ${decoy.pid} is not port-server)`,
      ],
    });
    await expectAlive(decoy);
  });
});

describe("another registry's daemon (exploit 2)", () => {
  test("answering on our address: stop refuses, naming its database; it keeps serving", async () => {
    const ours = home();
    const theirs = home();
    const other = await startDaemon({ home: theirs });
    const r = await portctl(ours, other.port, ["stop"]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `error: refusing to stop pid ${other.pid}: it serves ${statePaths(theirs.env).db}, not this registry's ${statePaths(ours.env).db}`,
    ]);
    await expectAlive(other.proc);
    expect((await checkedFetch(`${other.url}/healthz`)).status).toBe(200);
  });

  test("named by our PID file, our address silent: stop refuses; it keeps serving", async () => {
    const ours = home();
    const theirs = home();
    const other = await startDaemon({ home: theirs });
    plantPidFile(ours, other.pid);
    const address = freePort();
    const r = await portctl(ours, address, ["stop"]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `error: refusing to stop pid ${other.pid}: nothing answers on http://127.0.0.1:${address} to confirm it is this registry's daemon`,
    ]);
    await expectAlive(other.proc);
    expect((await checkedFetch(`${other.url}/healthz`)).status).toBe(200);
  });
});

describe("our own daemon", () => {
  test("is proved and stopped: exit 0, the PID file gone", async () => {
    const h = home();
    const d = await startDaemon({ home: h });
    const r = await portctl(h, d.port, ["stop"]);
    expect(r).toEqual({ code: 0, out: [`port-server stopped (pid ${d.pid})`], err: [] });
    expect(await d.proc.exited).toBe(0);
  });
});
