// The daemon's Unix socket (#28): made at start in the state folder (or --socket), mode 0666
// behind a folder that is the daemon's alone, removed at shutdown; nothing else at its path is
// ever followed or removed; a stale socket of a killed daemon is replaced. Requests through it
// are answered like TCP ones (Host `localhost`, which TCP refuses), and PORT_SERVER_ADDR=unix:
// is how every client picks it.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { captureIo } from "../helpers/cli.ts";
import {
  runServer,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";

let home: TempHome;
beforeEach(() => {
  home = tempHome("port-server-sock-");
});
afterEach(async () => {
  await stopAllDaemons();
  home.cleanup();
});

const viaSocket = (path: string, route: string, init: RequestInit = {}) =>
  fetch(`http://localhost${route}`, { ...init, unix: path } as RequestInit);

describe("the socket", () => {
  test("made 0666 in the state folder, answers as TCP does, removed at SIGTERM", async () => {
    const daemon = await startDaemon({ home });
    const sock = join(home.state, "port-server.sock");
    expect(daemon.stdout()).toContain(` and ${sock} (db `);
    const st = lstatSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o666);
    const res = await viaSocket(sock, "/v1/allocations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ app: "s", instance: "main", service: "web" }),
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as Allocation;
    const seen = (await (await fetch(`${daemon.url}/v1/allocations`)).json()) as Allocation[];
    expect(seen).toEqual([made]);
    // Host `localhost` without our port is a socket client's; over TCP it stays refused.
    const tcp = await fetch(`${daemon.url}/v1/allocations`, { headers: { Host: "localhost" } });
    expect(tcp.status).toBe(403);
    expect(await daemon.stop()).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  test("a stale socket of a killed daemon is replaced", async () => {
    const first = await startDaemon({ home });
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const sock = join(home.state, "port-server.sock");
    expect(lstatSync(sock).isSocket()).toBe(true);
    await startDaemon({ home });
    expect((await viaSocket(sock, "/healthz")).status).toBe(200);
  });

  test("a symlink or a file at --socket is refused with one line and left as it was", async () => {
    mkdirSync(home.state, { mode: 0o700 });
    const target = join(home.root, "target");
    writeFileSync(target, "keep");
    const link = join(home.state, "link.sock");
    symlinkSync(target, link);
    const file = join(home.state, "file.sock");
    writeFileSync(file, "mine");
    for (const path of [link, file]) {
      const run = await runServer(["--port", "0", "--socket", path], { home });
      expect(run.exitCode).toBe(1);
      expect(run.stderr.trim()).toBe(
        `port-server: cannot use the socket ${path}: something else is there (not a socket; left alone)`,
      );
    }
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, "utf8")).toBe("keep");
    expect(readFileSync(file, "utf8")).toBe("mine");
  });

  test("a folder others may write to is refused: they could swap the socket", async () => {
    const open = join(home.root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const run = await runServer(["--port", "0", "--socket", join(open, "s.sock")], { home });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("others may write to it (mode 0777)");
    expect(existsSync(join(open, "s.sock"))).toBe(false);
  });

  test("--socket and --no-socket together, or a relative path, are one line", async () => {
    const both = await runServer(["--socket", "/tmp/x.sock", "--no-socket"], { home });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--socket and --no-socket contradict each other");
    const relative = await runServer(["--socket", "rel.sock"], { home });
    expect(relative.exitCode).toBe(2);
    expect(relative.stderr).toContain("--socket: PORT_SERVER_ADDR must be unix:/absolute/path");
  });
});

describe("PORT_SERVER_ADDR=unix:", () => {
  test("portctl talks through the socket, and only through it", async () => {
    const daemon = await startDaemon({ home });
    const sock = join(home.state, "port-server.sock");
    const { health } = await import("../../src/cli/commands/health.ts");
    const io = captureIo({
      env: { PORT_SERVER_ADDR: `unix:${sock}` },
      cwd: home.root,
      home: home.root,
    });
    expect(await health({}, io)).toBe(0);
    expect(io.stdout[0]).toMatch(
      new RegExp(`^port-server is healthy \\(pid ${daemon.pid}, .*\\) at unix:${sock}$`),
    );
    // No socket there: not running, though the daemon answers on TCP.
    const none = captureIo({
      env: { PORT_SERVER_ADDR: `unix:${join(home.root, "none.sock")}` },
      cwd: home.root,
      home: home.root,
    });
    await expect(health({}, none)).rejects.toThrow("port-server is not running");
    expect(daemon.proc.exitCode).toBeNull();
  });

  test("a relative or over-long socket path is one line", async () => {
    const { parseAddress } = await import("../../src/core/config.ts");
    expect(() => parseAddress("unix:rel.sock")).toThrow(
      'PORT_SERVER_ADDR must be unix:/absolute/path for a socket (got "unix:rel.sock")',
    );
    expect(() => parseAddress(`unix:/${"a".repeat(120)}`)).toThrow(
      "PORT_SERVER_ADDR: the socket path is longer than the system allows (107 bytes)",
    );
    expect(parseAddress("unix:/run/port-server.sock")).toMatchObject({
      socket: "/run/port-server.sock",
    });
  });
});
