// The daemon's state folder is trusted only if it is ours (issue #11, points 5-8): a folder
// others may write to or another user owns is refused with nothing written; the database is
// never reached through a symlink and is kept 0600; a SIGTERM at any moment of start-up is an
// orderly stop; the PID file is written atomically and removed only while it names us.

import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  runServer,
  SERVER_MAIN,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";

let home: TempHome;
beforeEach(() => {
  home = tempHome("port-server-state-");
});
afterEach(async () => {
  await stopAllDaemons();
  home.cleanup();
});

const mode = (path: string) => statSync(path).mode & 0o777;

/** Exit 1, one line on stderr, and the folder as it was (but for `also`, e.g. the lock). */
async function expectRefused(line: string, also: string[] = []): Promise<void> {
  const list = () => (existsSync(home.state) ? readdirSync(home.state).sort() : []);
  const before = list();
  const run = await runServer(["--port", "0"], { home });
  expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({
    exitCode: 1,
    stderr: `port-server: ${line}\n`,
  });
  expect(list()).toEqual([...before, ...also].sort());
}

describe("a state folder that is not ours alone", () => {
  test.each([
    ["0777", 0o777],
    ["0770", 0o770],
    ["0722", 0o722],
    ["1777 (like /tmp)", 0o1777],
  ])("mode %s: refused, nothing written", async (_, m) => {
    mkdirSync(home.state, { mode: 0o700 });
    chmodSync(home.state, m);
    const shown = (m & 0o777).toString(8).padStart(4, "0");
    await expectRefused(
      `refusing the state folder ${home.state}: others may write to it (mode ${shown}); run: chmod 700 ${home.state}`,
    );
  });

  test.skipIf(process.getuid?.() !== 0)(
    "owned by another user: refused, nothing written",
    async () => {
      mkdirSync(home.state, { mode: 0o700 });
      chownSync(home.state, 65534, 65534);
      await expectRefused(
        `refusing the state folder ${home.state}: it belongs to uid 65534, not to you (uid 0)`,
      );
    },
  );

  test("a missing folder is created 0700; 0755 (readable, not writable by others) is accepted", async () => {
    const d = await startDaemon({ home });
    expect(mode(home.state)).toBe(0o700);
    expect(await d.stop()).toBe(0);
    chmodSync(home.state, 0o755);
    const again = await startDaemon({ home });
    expect(await again.stop()).toBe(0);
  });
});

describe("the database file", () => {
  test("a dangling ports.db symlink is refused; nothing is created where it points", async () => {
    mkdirSync(home.state, { mode: 0o700 });
    const target = join(home.root, "elsewhere.db");
    symlinkSync(target, join(home.state, "ports.db"));
    // The lock is taken first (so no two daemons race on the file); nothing else appears.
    await expectRefused(
      `${join(home.state, "ports.db")} is a symbolic link; refusing to follow it`,
      ["port-server.lock"],
    );
    expect(existsSync(target)).toBe(false);
  });

  test("a symlinked -wal is refused too; its target untouched", async () => {
    mkdirSync(home.state, { mode: 0o700 });
    const target = join(home.root, "victim");
    writeFileSync(target, "precious\n");
    symlinkSync(target, join(home.state, "ports.db-wal"));
    // The lock is taken first (so no two daemons race on the file); nothing else appears.
    await expectRefused(
      `${join(home.state, "ports.db-wal")} is a symbolic link; refusing to follow it`,
      ["port-server.lock"],
    );
    expect(readFileSync(target, "utf8")).toBe("precious\n");
  });

  test("an existing database and its -wal/-shm left 0644 are made 0600", async () => {
    mkdirSync(home.state, { mode: 0o700 });
    const db = join(home.state, "ports.db");
    const d = await startDaemon({ home });
    expect(await d.stop()).toBe(0);
    // A crash or an old version left the WAL behind, readable by everyone.
    const open = new Database(db);
    open.run("PRAGMA journal_mode = WAL");
    open.run("CREATE TABLE IF NOT EXISTS scratch (x)");
    for (const f of [db, `${db}-wal`, `${db}-shm`]) chmodSync(f, 0o644);
    const again = await startDaemon({ home });
    for (const f of [db, `${db}-wal`, `${db}-shm`]) expect(mode(f)).toBe(0o600);
    open.close();
    expect(await again.stop()).toBe(0);
  });

  test("another program's SQLite file is refused, byte for byte untouched", async () => {
    mkdirSync(home.state, { mode: 0o700 });
    const db = join(home.state, "ports.db");
    const other = new Database(db);
    other.run("CREATE TABLE notes (text TEXT)");
    other.close();
    const before = readFileSync(db);
    const run = await runServer(["--port", "0"], { home });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      `port-server: ${db} is not a port-server database (it has tables notes); refusing to touch it\n`,
    );
    expect(readFileSync(db).equals(before)).toBe(true);
  });
});

describe("the PID file", () => {
  test("removed at shutdown only while it names us: a replaced one is left alone", async () => {
    const d = await startDaemon({ home });
    const pidFile = join(home.state, "port-server.pid");
    expect(readFileSync(pidFile, "utf8")).toBe(`${d.pid}\n`);
    writeFileSync(pidFile, "424242\n"); // another daemon's, written since
    expect(await d.stop()).toBe(0);
    expect(readFileSync(pidFile, "utf8")).toBe("424242\n");
  });

  test("written without temp files left over, 0600 whatever the umask", async () => {
    const d = await startDaemon({ home, env: {} });
    const pidFile = join(home.state, "port-server.pid");
    expect(mode(pidFile)).toBe(0o600);
    expect(readdirSync(home.state).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(await d.stop()).toBe(0);
  });
});

describe("a signal during start-up", () => {
  test("SIGTERM the moment the PID file appears: an orderly stop every time, no PID file left", async () => {
    const pidFile = join(home.state, "port-server.pid");
    const outcomes: string[] = [];
    for (let i = 0; i < 15; i++) {
      const proc = Bun.spawn([process.execPath, SERVER_MAIN, "--port", "0"], {
        env: { ...process.env, ...home.env },
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      const deadline = Date.now() + 10_000;
      while (!existsSync(pidFile) && proc.exitCode === null && Date.now() < deadline) {
        await Bun.sleep(0.5);
      }
      proc.kill("SIGTERM");
      await proc.exited;
      outcomes.push(
        `exit ${proc.exitCode} signal ${proc.signalCode} pidfile ${existsSync(pidFile)}`,
      );
    }
    expect(outcomes).toEqual(outcomes.map(() => "exit 0 signal null pidfile false"));
  }, 60_000);
});
