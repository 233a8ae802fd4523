// The real `port-server` process: state files and their modes, allocation over HTTP, orderly
// shutdown, restart on the same database, and each way it refuses to start. Port 0 and a temp
// home throughout; every daemon is stopped by its test, and afterEach catches any left over.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Allocator } from "../../src/core/allocator.ts";
import type { Allocation } from "../../src/core/model.ts";
import { Store } from "../../src/core/store.ts";
import { checkedFetch } from "../helpers/contract.ts";
import {
  runServer,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";
import { fakeProbe } from "../helpers/fakes.ts";

let home: TempHome;

beforeEach(() => {
  home = tempHome();
});
afterEach(async () => {
  await stopAllDaemons();
  home.cleanup();
});

const mode = (path: string) => statSync(path).mode & 0o777;
const allocate = (url: string, body: unknown, init: RequestInit = {}) =>
  checkedFetch(`${url}/v1/allocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });

describe("lifecycle", () => {
  test("serves, writes its state 0700/0600, stops on SIGTERM, and remembers after restart", async () => {
    const daemon = await startDaemon({ home, args: ["--range", "20000-29999"] });
    expect(daemon.stdout()).toStartWith(`port-server ${daemon.pid} listening on ${daemon.url} `);
    expect(daemon.stdout()).toContain(`db ${join(home.state, "ports.db")}`);

    const health = await checkedFetch(`${daemon.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", pid: daemon.pid });

    const res = await allocate(daemon.url, { app: "shop", instance: "main", service: "web" });
    expect(res.status).toBe(201);
    const allocation = (await res.json()) as Allocation;
    expect(allocation.port).toBeGreaterThanOrEqual(20000);
    expect(allocation.port).toBeLessThanOrEqual(29999);

    const pidFile = join(home.state, "port-server.pid");
    expect(readFileSync(pidFile, "utf8")).toBe(`${daemon.pid}\n`);
    expect(mode(pidFile)).toBe(0o600);
    expect(mode(home.state)).toBe(0o700);
    expect(mode(join(home.state, "ports.db"))).toBe(0o600);

    expect(await daemon.stop()).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
    expect(daemon.stdout()).toContain(`port-server ${daemon.pid} stopped`);
    expect(daemon.stderr()).toBe("");

    const again = await startDaemon({ home });
    expect(again.pid).not.toBe(daemon.pid);
    const list = await checkedFetch(`${again.url}/v1/allocations`);
    expect(await list.json()).toEqual([allocation]);
    expect(readFileSync(pidFile, "utf8")).toBe(`${again.pid}\n`);
    expect(await again.stop()).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  test("SIGINT is an orderly stop too", async () => {
    const daemon = await startDaemon({ home });
    daemon.proc.kill("SIGINT");
    await daemon.proc.exited;
    expect(daemon.proc.exitCode).toBe(0);
    expect(existsSync(join(home.state, "port-server.pid"))).toBe(false);
  });

  test("--db and --pidfile put the files where asked", async () => {
    const db = join(home.root, "elsewhere.db");
    const pidfile = join(home.root, "run", "ps.pid");
    const daemon = await startDaemon({ home, args: ["--db", db, "--pidfile", pidfile] });
    try {
      expect(readFileSync(pidfile, "utf8")).toBe(`${daemon.pid}\n`);
      expect(mode(db)).toBe(0o600);
      expect(existsSync(join(home.state, "ports.db"))).toBe(false);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    expect(existsSync(pidfile)).toBe(false);
  });

  test("over real HTTP: foreign Host, cross-site and oversized bodies are refused", async () => {
    const daemon = await startDaemon({ home });
    try {
      const body = { app: "shop", instance: "main", service: "web" };
      const rebound = await checkedFetch(`${daemon.url}/healthz`, {
        headers: { host: `evil.example:${daemon.port}` },
      });
      expect(rebound.status).toBe(403);
      const crossSite = await allocate(daemon.url, body, {
        headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" },
      });
      expect(crossSite.status).toBe(403);
      const huge = await checkedFetch(`${daemon.url}/v1/allocations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, pad: "x".repeat(100 * 1024) }),
      });
      expect(huge.status).toBe(413);
      expect(await (await checkedFetch(`${daemon.url}/v1/allocations`)).json()).toEqual([]);
      expect((await checkedFetch(`${daemon.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe("one daemon per state folder", () => {
  test("a second daemon on the folder exits naming the first; the first keeps its PID file", async () => {
    const a = await startDaemon({ home });
    const pidFile = join(home.state, "port-server.pid");
    const run = await runServer(["--port", "0"], { home });
    expect(run).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `port-server: port-server is already running (pid ${a.pid}) on 127.0.0.1:${a.port}\n`,
    });
    expect(readFileSync(pidFile, "utf8")).toBe(`${a.pid}\n`);
    expect((await checkedFetch(`${a.url}/healthz`)).status).toBe(200);
    expect(await a.stop()).toBe(0);
    // The kernel released the lock with the process: the folder is free again.
    const again = await startDaemon({ home });
    expect(await again.stop()).toBe(0);
  });
});

describe("two processes on one database", () => {
  test("never hand out one port twice, even when asked at the same moment", async () => {
    const range = { lo: 20000, hi: 29999 };
    const daemon = await startDaemon({ home, args: ["--range", "20000-29999"] });
    // The second writer is this test process: the lock keeps a second daemon off the folder,
    // but the database must not rely on that (SPEC §4: uniqueness is the database's).
    const store = new Store(join(home.state, "ports.db"));
    const local = new Allocator({ store, probe: fakeProbe(), range, exclude: [] });
    try {
      const remote = Array.from({ length: 20 }, (_, i) =>
        allocate(daemon.url, { app: "race", instance: "x", service: `http${i}` }),
      );
      const here = Array.from(
        { length: 20 },
        (_, i) =>
          local.allocate({ app: "race", instance: "x", service: `local${i}` }).allocation.port,
      );
      const responses = await Promise.all(remote);
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201));
      const ports = await Promise.all(
        responses.map(async (r) => ((await r.json()) as Allocation).port),
      );
      expect(new Set([...ports, ...here]).size).toBe(40);
      const listed = await (await checkedFetch(`${daemon.url}/v1/allocations`)).json();
      expect(listed).toHaveLength(40);
    } finally {
      store.close();
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe("refusing to start", () => {
  /** One line on stderr, a non-zero exit, and no PID file left behind. */
  function expectRefused(run: { exitCode: number | null; stderr: string }, line: string | RegExp) {
    expect(run.exitCode).not.toBe(0);
    expect(run.exitCode).not.toBeNull();
    expect(run.stderr.endsWith("\n")).toBe(true);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(line);
    expect(existsSync(join(home.state, "port-server.pid"))).toBe(false);
  }

  test("a --db file that is not SQLite is left unchanged", async () => {
    const db = join(home.root, "notes.db");
    const bytes = Buffer.from("my precious notes\nnot a database\n");
    writeFileSync(db, bytes, { mode: 0o640 });
    const run = await runServer(["--port", "0", "--db", db], { home });
    expectRefused(run, `port-server: ${db} is not an SQLite database; refusing to touch it`);
    expect(readFileSync(db).equals(bytes)).toBe(true);
    expect(mode(db)).toBe(0o640);
    expect(existsSync(`${db}-wal`)).toBe(false);
  });

  test("a port already in use", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const run = await runServer(["--port", String(listener.port)], { home });
      expectRefused(run, `port-server: port ${listener.port} is already in use`);
    } finally {
      listener.stop(true);
    }
  });

  test.each<[string[], RegExp]>([
    [
      ["--port", "0", "--range", "9000-8000"],
      /^port-server: --range: invalid port range "9000-8000": 9000 is above 8000/,
    ],
    [["--port", "0", "--range", "abc"], /^port-server: --range: invalid port range "abc"/],
    [["--port", "70000"], /^port-server: invalid --port "70000"/],
    [
      ["--port", "0", "--idle-timeout", "0"],
      /^port-server: invalid --idle-timeout "0": expected 1-255 seconds/,
    ],
    [["--port", "0", "--idle-timeout", "1.5"], /^port-server: invalid --idle-timeout "1.5"/],
    [["--port", "0", "--idle-timeout", "256"], /^port-server: invalid --idle-timeout "256"/],
    [["--port", "-1"], /^port-server: Option '--port' argument is ambiguous\. .*--help\)$/],
    [["--port", "0", "--bogus"], /^port-server: .*'--bogus'/],
  ])("%p exits 2 with one clear line", async (args, line) => {
    const run = await runServer(args, { home });
    expectRefused(run, line);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe("");
  });

  test("PORT_SERVER_RANGE that makes no sense is refused the same way", async () => {
    const run = await runServer(["--port", "0"], { home, env: { PORT_SERVER_RANGE: "0-10" } });
    expectRefused(run, /^port-server: PORT_SERVER_RANGE: invalid port range "0-10"/);
  });
});

describe("help and version", () => {
  test("--help prints usage and exits 0 without creating any state", async () => {
    const run = await runServer(["--help"], { home });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Usage: port-server [flags]");
    expect(run.stdout).toContain("--range LO-HI");
    expect(run.stderr).toBe("");
    expect(existsSync(home.state)).toBe(false);
  });

  test("--version prints one line and exits 0", async () => {
    const run = await runServer(["--version"], { home });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^port-server \S+ \(commit \S+, built \S+\)\n$/);
  });
});
