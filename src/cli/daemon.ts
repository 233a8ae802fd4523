// Daemon lifecycle for `portctl start|stop|restart|status`. The listening port is the lock:
// of several daemons started at once only one can bind it, the others exit, and every
// `start` reports what really happened. A PID is signalled only once identity.ts has proved it
// is this registry's daemon.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  ENV,
  HEALTH_POLL_MS,
  HEALTH_PROBE_TIMEOUT_MS,
  parseAddress,
  START_TIMEOUT_MS,
  STOP_TIMEOUT_MS,
  statePaths,
} from "../core/config.ts";
import { fileReason, PortError } from "../core/errors.ts";
import { APPEND, ensurePrivateFolder, openNoFollow, readText } from "../core/files.ts";
import { isAlive } from "../core/processes.ts";
import { Client, type Health } from "./client.ts";
import {
  disprove,
  isPid,
  type OtherUser,
  otherUserLine,
  pidText,
  serverSource,
} from "./identity.ts";
import type { Io } from "./io.ts";
import { type DaemonState, inspect, removeIfNames } from "./state.ts";
import { addressTaken, takenLine } from "./taken.ts";

export interface Started {
  pid: number;
  /** false when another daemon was already running (or won a concurrent start). */
  ours: boolean;
  /** Where it runs, when that is not PORT_SERVER_ADDR (the folder's daemon listens elsewhere). */
  address?: string;
  /** The daemon on our address is another user's: the machine's one registry (#28). */
  otherUser?: OtherUser;
}

/** Starts the daemon detached and waits for /healthz; throws when it does not come up. */
export async function startDaemon(io: Io): Promise<Started> {
  const client = new Client(io.env);
  const state = await inspect(io);
  if (state.otherUser) return { pid: state.otherUser.pid, ours: false, otherUser: state.otherUser };
  if (state.health) return { pid: alreadyRunning(state.health, state.ours), ours: false };
  // One daemon per state folder: ours may listen on another address than PORT_SERVER_ADDR.
  if (state.elsewhere) return { ...state.elsewhere, ours: false };
  // Something else holds the address: a daemon started there could only fail.
  const taken = addressTaken(io.env);
  if (taken) {
    throw new PortError(
      "daemon",
      `cannot start port-server: ${takenLine(taken)} — run the registry elsewhere: ${taken.fix}`,
    );
  }

  const paths = statePaths(io.env);
  const { port } = parseAddress(io.env[ENV.addr]);
  ensurePrivateFolder(paths.dir);
  const log = openLog(paths.log);
  const [cmd, args, argv0] = serverCommand();
  const child = spawn(cmd, [...args, "--port", String(port), "--log", paths.log], {
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
  if (state.otherUser) {
    const line = otherUserLine(state.otherUser, state.ours.where);
    throw new PortError("daemon", `${line}; it is not yours to stop`);
  }
  const why =
    pid === state.elsewhere?.pid
      ? `it listens on ${state.elsewhere.address}, not on ${ENV.addr} (${state.ours.address}); run: ${ENV.addr}=${state.elsewhere.address} portctl stop`
      : disprove(pid, state.health, state.ours);
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

// --- internal ---

/** The daemon's log, appended to and never through a planted symlink. */
function openLog(log: string): number {
  try {
    return openNoFollow(log, APPEND, 0o600);
  } catch (err) {
    throw new PortError(
      "filesystem",
      `cannot write the log ${log}: ${fileReason(err, true)} (set ${ENV.home} to a writable folder)`,
      undefined,
      { path: log },
    );
  }
}

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
  let winner: number | undefined;
  while (Date.now() < deadline) {
    const h = await client.health(HEALTH_PROBE_TIMEOUT_MS).catch(() => undefined);
    if (h && h.pid === child.pid) return { pid: h.pid, ours: true };
    // Another daemon answers: ours will find the folder locked and exit. Wait for that, or it
    // could take the folder over once the other stops (a `stop` right after would leave it).
    if (h) {
      winner = alreadyRunning(h, ours); // throws now when it is not this registry's daemon
      if (exited) return { pid: winner, ours: false };
    } else if (exited) {
      // Lost a start race to another daemon, or failed: the other daemon answers, or the log says why.
      const other = await client.health(HEALTH_PROBE_TIMEOUT_MS).catch(() => undefined);
      if (other) return { pid: alreadyRunning(other, ours), ours: false };
      const why = lastLine(log);
      // The winner holds the folder's lock but may not listen yet: wait for it to answer.
      if (!/^port-server is already running \(pid \d+\)$/.test(why)) {
        throw new PortError("daemon", `port-server failed to start: ${why} (log: ${log})`);
      }
    }
    await Bun.sleep(HEALTH_POLL_MS);
  }
  if (winner !== undefined) return { pid: winner, ours: false }; // ours was slow to give up
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
  const source = serverSource();
  if (source) return [process.execPath, [source], undefined];
  const sibling = join(dirname(process.execPath), "port-server");
  if (existsSync(sibling)) return [sibling, [], undefined];
  return [process.execPath, [], "port-server"];
}

function lastLine(path: string): string {
  const lines = (readText(path) ?? "").trim().split("\n");
  return lines[lines.length - 1]?.replace(/^port-server: /, "") || "no output";
}
