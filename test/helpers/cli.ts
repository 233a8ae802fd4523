// portctl in-process: command functions and `runCli` with a captured `Io`, against a real daemon
// (from ./daemon.ts) in a throwaway home, from a working folder named like the app. Also the
// small tools the CLI and end-to-end tests share: free ports, a request recorder, ANSI checks.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Io } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/program.ts";
import type { Env } from "../../src/core/config.ts";
import type { Allocation } from "../../src/core/model.ts";
import { checkedFetch } from "./contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "./daemon.ts";

export const NOT_RUNNING_LINE = "error: port-server is not running — start it with: portctl start";

/** Any ANSI escape: no colour, no bold, nothing for a terminal. */
export const ESC = "\u001b";

export interface CapturedIo extends Io {
  stdout: string[];
  stderr: string[];
}

export interface IoInit {
  env: Env;
  cwd: string;
  home: string;
  isTTY?: boolean;
}

export function captureIo(init: IoInit): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => void stdout.push(line),
    err: (line) => void stderr.push(line),
    env: init.env,
    cwd: init.cwd,
    home: init.home,
    isTTY: init.isTTY ?? false,
  };
}

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/** portctl in a temp home (HOME and PORT_SERVER_HOME from it), on 127.0.0.1:`port`. */
export function runIn(home: TempHome, port: number, argv: string[]): Promise<CliRun> {
  return runWith(argv, {
    env: { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${port}` },
    cwd: home.root,
    home: home.root,
  });
}

/** `runCli` with a fresh captured Io. */
export async function runWith(argv: string[], init: IoInit): Promise<CliRun> {
  const io = captureIo(init);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

export interface CliFixture {
  home: TempHome;
  daemon: Daemon;
  /** `<home>/<app>`: no git around it, so the detected app is the folder name. */
  cwd: string;
  env: Env;
  /** A captured Io for this fixture; `over` replaces single fields. */
  io(over?: Partial<IoInit>): CapturedIo;
  run(argv: string[], over?: Partial<IoInit>): Promise<CliRun>;
  /** GET on the daemon, parsed: what `--json` must print. */
  api<T = unknown>(path: string): Promise<T>;
  allocations(): Promise<Allocation[]>;
  /** Allocates through the CLI (`allocate --json …`) and returns what it printed. */
  alloc(...argv: string[]): Promise<Allocation>;
  close(): Promise<void>;
}

/** A daemon on port 0 in a temp home, and portctl pointed at it from `<home>/<app>`. */
export async function cliFixture(app = "myapp"): Promise<CliFixture> {
  const home = tempHome("portctl-cli-");
  const cwd = join(home.root, app);
  mkdirSync(cwd);
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ home });
  } catch (err) {
    home.cleanup();
    throw err;
  }
  const env: Env = { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` };
  const init = (over: Partial<IoInit> = {}): IoInit => ({ env, cwd, home: home.root, ...over });
  const api = async <T>(path: string): Promise<T> => {
    const res = await checkedFetch(`${daemon.url}${path}`, { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as T;
  };
  return {
    home,
    daemon,
    cwd,
    env,
    io: (over) => captureIo(init(over)),
    run: (argv, over) => runWith(argv, init(over)),
    api,
    allocations: () => api<Allocation[]>("/v1/allocations"),
    async alloc(...argv) {
      const run = await runWith(["allocate", "--json", ...argv], init());
      if (run.code !== 0 || run.err.length)
        throw new Error(`allocate ${argv.join(" ")}: ${run.err.join(" ")}`);
      return JSON.parse(run.out.join("\n")) as Allocation;
    },
    async close() {
      await daemon.stop();
      home.cleanup();
    },
  };
}

/** A port nothing listens on right now: bind port 0, note it, close it. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/**
 * The first port from `from` up that this machine lets us bind on every interface: what the
 * daemon hands out first (3000 on a quiet machine, the seed's number), without failing on a
 * laptop whose own dev server holds 3000.
 */
export function firstBindablePort(from: number): number {
  for (let port = from; port < from + 1000; port++) {
    try {
      Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } }).stop(true);
      return port;
    } catch {
      // taken; try the next one
    }
  }
  throw new Error(`no bindable port in ${from}-${from + 999}`);
}

export interface Recorder {
  port: number;
  /** Requests received, as `METHOD /path`. */
  requests: string[];
  stop(): void;
}

/** A server that records every request and answers 500: proof that nothing was sent. */
export function requestRecorder(): Recorder {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      requests.push(`${req.method} ${new URL(req.url).pathname}`);
      return Response.json({ error: "recorder" }, { status: 500 });
    },
  });
  return { port: server.port ?? 0, requests, stop: () => void server.stop(true) };
}

/** `2025-02-08 15:04:05` for an RFC 3339 instant shifted by `offsetMinutes`, computed in UTC. */
export function shiftedTime(rfc3339: string, offsetMinutes: number): string {
  const d = new Date(Date.parse(rfc3339) + offsetMinutes * 60_000);
  return d.toISOString().slice(0, 19).replace("T", " ");
}
