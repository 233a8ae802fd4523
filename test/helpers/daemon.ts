// Real `port-server` processes for tests: a throwaway home, a daemon on port 0 whose port is read
// from its "listening on" line, and one-shot runs for the ways it refuses to start. Every daemon
// started here is tracked so `stopAllDaemons()` in an afterEach can never leave one behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { unwatch, watch } from "./contract.ts";
import { drain } from "./processes.ts";

/** Running from source; pass `bin` (e.g. the compiled `bin/port-server`) to test a build. */
export const SERVER_MAIN = join(import.meta.dir, "../../src/server/main.ts");

export interface TempHome {
  /** The temp dir; also `HOME`. Removed by `cleanup()`. */
  root: string;
  /** `PORT_SERVER_HOME`: `<root>/state`, not created, so the daemon's own mkdir is exercised. */
  state: string;
  /** Also PORT_SERVER_PROXY_PORT=0: a test's proxy never takes port 80 or the fixed fallback. */
  env: { HOME: string; PORT_SERVER_HOME: string; PORT_SERVER_PROXY_PORT: string };
  cleanup(): void;
}

export function tempHome(prefix = "port-server-test-"): TempHome {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const state = join(root, "state");
  return {
    root,
    state,
    env: { HOME: root, PORT_SERVER_HOME: state, PORT_SERVER_PROXY_PORT: "0" },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface ServerOptions {
  /** Supplies HOME and PORT_SERVER_HOME; without it the test must pass them in `env`. */
  home?: TempHome;
  /** Extra variables; `undefined` removes one. Inherited PORT_SERVER_* variables are dropped. */
  env?: Record<string, string | undefined>;
  /** Flags after the defaults (`--port 0` for `startDaemon`). */
  args?: string[];
  /** An executable to run instead of `bun src/server/main.ts`. */
  bin?: string;
  timeoutMs?: number;
}

export interface Daemon {
  port: number;
  pid: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

const running = new Set<Daemon>();

/** Starts a daemon on port 0 and waits for its "listening on" line. */
export async function startDaemon(opts: ServerOptions = {}): Promise<Daemon> {
  const proc = spawnServer(["--port", "0", ...(opts.args ?? [])], opts);
  const out = drain(proc.stdout);
  const err = drain(proc.stderr);
  const daemon: Daemon = {
    port: 0,
    pid: proc.pid,
    url: "",
    proc,
    stdout: out.text,
    stderr: err.text,
    async stop(graceMs = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs)]);
        if (!exited) proc.kill("SIGKILL");
      }
      await proc.exited;
      await Promise.all([out.done, err.done]);
      running.delete(daemon);
      const broken = await unwatch(daemon.url);
      if (broken.length) throw new Error(`responses of ${daemon.url}:\n${broken.join("\n")}`);
      return proc.exitCode;
    },
  };
  running.add(daemon);
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const m = LISTENING.exec(out.text());
    if (m) {
      daemon.port = Number(m[1]);
      daemon.url = `http://127.0.0.1:${daemon.port}`;
      // Whatever in this process talks to it, its answers are checked against its document.
      watch(daemon.url);
      return daemon;
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await daemon.stop(0);
      throw new Error(
        `port-server did not start (exit ${proc.exitCode}):\n${out.text()}${err.text()}`,
      );
    }
    await Bun.sleep(10);
  }
}

/** Stops every daemon still running; for afterEach. */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

export interface ServerRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the server with exactly `args` to completion, for flags and refusals that exit. */
export async function runServer(args: string[], opts: ServerOptions = {}): Promise<ServerRun> {
  const proc = spawnServer(args, opts);
  const timeout = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 10_000);
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timeout);
  return { exitCode: proc.exitCode, stdout, stderr };
}

// --- internal ---

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

function spawnServer(args: string[], opts: ServerOptions) {
  const cmd = opts.bin ? [opts.bin, ...args] : [process.execPath, SERVER_MAIN, ...args];
  return Bun.spawn(cmd, {
    env: buildEnv(opts),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

function buildEnv(opts: ServerOptions): Record<string, string> {
  const env: Record<string, string | undefined> = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("PORT_SERVER_")),
  );
  // A test's proxy takes a free port, never 80 or the fixed fallback (a test may say otherwise).
  env.PORT_SERVER_PROXY_PORT = "0";
  Object.assign(env, opts.home?.env, opts.env);
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] != null));
}
