// Daemon lifecycle for `portctl start|stop|restart|status`. The listening port is the lock:
// of several daemons started at once only one can bind it, the others exit, and every
// `start` reports what really happened. A PID is signalled only once identity.ts has proved it
// is this registry's daemon.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  ENV,
  parseAddress,
  START_TIMEOUT_MS,
  STOP_TIMEOUT_MS,
  statePaths,
} from "../core/config.ts";
import { fileReason, PortError } from "../core/errors.ts";
import { Client, type Health } from "./client.ts";
import { disprove, isAlive, isPid, pidText, portServerExecutable } from "./identity.ts";
import type { Io } from "./io.ts";

export interface DaemonState {
  pidFile: string;
  /** The PID the file names, if any. */
  filePid?: number;
  /** Whatever answers /healthz on PORT_SERVER_ADDR, if anything does. */
  health?: Health;
  /** Why what answers is not this registry's daemon; undefined when it is (or nothing answers). */
  foreign?: string;
  /** A PID file naming a process that is not a port-server (removed by the caller). */
  stale: boolean;
  /** This registry: its database and the address it is reached at. */
  ours: { db: string; address: string };
}

/** What is running: the PID file, cross-checked with /healthz and the process table. */
export async function inspect(io: Io): Promise<DaemonState> {
  const paths = statePaths(io.env);
  const client = new Client(io.env);
  const ours = { db: paths.db, address: client.base };
  const filePid = readPid(paths.pid);
  const health = await client.health().catch(() => undefined);
  const foreign = health ? disprove(health.pid, health, ours) : undefined;
  const stale =
    filePid !== undefined && !(isAlive(filePid) && portServerExecutable(filePid) === true);
  return {
    pidFile: paths.pid,
    ...(filePid !== undefined ? { filePid } : {}),
    ...(health ? { health } : {}),
    ...(foreign ? { foreign } : {}),
    stale,
    ours,
  };
}

export interface Started {
  pid: number;
  /** false when another daemon was already running (or won a concurrent start). */
  ours: boolean;
}

/** Starts the daemon detached and waits for /healthz; throws when it does not come up. */
export async function startDaemon(io: Io): Promise<Started> {
  const client = new Client(io.env);
  const state = await inspect(io);
  if (state.health) return { pid: alreadyRunning(state.health, state.ours), ours: false };

  const paths = statePaths(io.env);
  const { port } = parseAddress(io.env[ENV.addr]);
  const log = openLog(paths.dir, paths.log);
  const [cmd, args, argv0] = serverCommand();
  const child = spawn(cmd, [...args, "--port", String(port)], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...io.env, [ENV.home]: paths.dir },
    cwd: paths.dir,
    argv0,
  });
  child.unref();
  return waitUntilUp(child, client, paths.log, state.ours);
}

/**
 * SIGTERM to our daemon and wait for it to exit. Returns the PID stopped. A pid that is not
 * proved to be this registry's daemon is refused with one line naming it and why.
 */
export async function stopDaemon(state: DaemonState): Promise<number> {
  const pid = state.health ? state.health.pid : state.stale ? undefined : state.filePid;
  if (pid === undefined) throw new PortError("daemon", "port-server is not running");
  const why = disprove(pid, state.health, state.ours);
  if (why !== undefined || !isPid(pid)) {
    throw new PortError("daemon", `refusing to stop pid ${pidText(pid)}: ${why}`);
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // exited between our look and the signal
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new PortError(
        "daemon",
        `port-server (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s`,
      );
    }
    await Bun.sleep(20);
  }
  removeIfNames(state.pidFile, pid);
  return pid;
}

/** Removes a PID file that names a process which is not our daemon; returns whether it did. */
export function removeStale(state: DaemonState): boolean {
  if (!state.stale || state.filePid === undefined) return false;
  removeIfNames(state.pidFile, state.filePid);
  return true;
}

/** Why a PID file was stale: its process is gone, or it is some other program. */
export function staleReason(state: DaemonState): string {
  const pid = state.filePid;
  return pid !== undefined && isAlive(pid)
    ? `pid ${pid} is not port-server`
    : `pid ${pid} is not running`;
}

// --- internal ---

/** The state folder and the daemon's log, or one line saying why they cannot be written. */
function openLog(dir: string, log: string): number {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return openSync(log, "a", 0o600);
  } catch (err) {
    throw new PortError(
      "filesystem",
      `cannot write the log ${log}: ${fileReason(err, true)} (set ${ENV.home} to a writable folder)`,
      undefined,
      { path: log },
    );
  }
}

const HEALTH_POLL_MS = 20;

/** The pid of what answers on our address when it is our daemon; one line saying why not if not. */
function alreadyRunning(health: Health, ours: DaemonState["ours"]): number {
  const why = disprove(health.pid, health, ours);
  if (why === undefined) return health.pid;
  throw new PortError(
    "daemon",
    `${ours.address} is taken by pid ${pidText(health.pid)}, which is not this registry's daemon: ${why}`,
  );
}

async function waitUntilUp(
  child: ChildProcess,
  client: Client,
  log: string,
  ours: DaemonState["ours"],
): Promise<Started> {
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const h = await client.health(250).catch(() => undefined);
    if (h && h.pid === child.pid) return { pid: h.pid, ours: true };
    if (h) return { pid: alreadyRunning(h, ours), ours: false };
    if (exited) {
      // Lost a start race to another daemon, or failed: the other daemon answers, or the log says why.
      const other = await client.health(250).catch(() => undefined);
      if (other) return { pid: alreadyRunning(other, ours), ours: false };
      throw new PortError("daemon", `port-server failed to start: ${lastLine(log)} (log: ${log})`);
    }
    await Bun.sleep(HEALTH_POLL_MS);
  }
  throw new PortError(
    "daemon",
    `port-server did not become healthy within ${START_TIMEOUT_MS / 1000} s (log: ${log})`,
  );
}

/**
 * How to run the daemon: the `port-server` next to this executable; else this same executable
 * under the name `port-server` (one binary, two names); from source, bun on src/server/main.ts.
 */
function serverCommand(): [string, string[], string | undefined] {
  const source = join(import.meta.dir, "..", "server", "main.ts");
  if (!isCompiled() && existsSync(source)) return [process.execPath, [source], undefined];
  const sibling = join(dirname(process.execPath), "port-server");
  if (existsSync(sibling)) return [sibling, [], undefined];
  return [process.execPath, [], "port-server"];
}

function isCompiled(): boolean {
  return import.meta.url.includes("$bunfs") || import.meta.url.includes("~BUN");
}

function readPid(path: string): number | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(text) && Number(text) > 1 ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function removeIfNames(path: string, pid: number): void {
  if (readPid(path) === pid) rmSync(path, { force: true });
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function lastLine(path: string): string {
  const lines = (readText(path) ?? "").trim().split("\n");
  return lines[lines.length - 1]?.replace(/^port-server: /, "") || "no output";
}
