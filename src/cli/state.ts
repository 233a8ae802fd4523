// What is running for this state folder, seen from portctl: the PID file, whatever answers
// /healthz on PORT_SERVER_ADDR, and the daemon that holds the folder's lock, if it listens
// elsewhere. Each is cross-checked (identity.ts) before anything is concluded from it.
import { readFileSync, rmSync } from "node:fs";
import { ENV, statePaths } from "../core/config.ts";
import { type LockHolder, readLockHolder } from "../core/lockfile.ts";
import { isAlive } from "../core/processes.ts";
import { Client, type Health } from "./client.ts";
import { anotherUsers, disprove, type OtherUser, portServerExecutable } from "./identity.ts";
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
  ours: { db: string; address: string; where: string };
  /**
   * Our daemon, proved, listening on another address than PORT_SERVER_ADDR (the folder's lock
   * names it): only ever set when nothing of ours answers on PORT_SERVER_ADDR.
   */
  elsewhere?: Required<LockHolder>;
  /** What answers is another user's port-server: the machine's one registry (#28). */
  otherUser?: OtherUser;
}

/** What is running: the PID file, cross-checked with /healthz and the process table. */
export async function inspect(io: Io): Promise<DaemonState> {
  const paths = statePaths(io.env);
  const client = new Client(io.env);
  const ours = { db: paths.db, address: client.base, where: client.where };
  const filePid = readPid(paths.pid);
  let health = await client.health().catch(() => undefined);
  let foreign = health ? disprove(health.pid, health, ours) : undefined;
  const otherUser = foreign ? anotherUsers(health) : undefined;
  const stale =
    filePid !== undefined && !(isAlive(filePid) && portServerExecutable(filePid) === true);
  let elsewhere = health && !foreign ? undefined : await lockHolder(io, paths.lock, ours.db);
  if (!health && elsewhere?.base === ours.address) {
    // It began to answer on our own address between the two looks (a start racing ours): it
    // is the daemon here, not one elsewhere.
    health = elsewhere.health;
    foreign = undefined;
    elsewhere = undefined;
  }
  return {
    pidFile: paths.pid,
    ...(filePid !== undefined ? { filePid } : {}),
    ...(health ? { health } : {}),
    ...(foreign ? { foreign } : {}),
    ...(otherUser ? { otherUser } : {}),
    ...(elsewhere ? { elsewhere: { pid: elsewhere.pid, address: elsewhere.address } } : {}),
    stale,
    ours,
  };
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

/** Removes the PID file if it still names `pid`. */
export function removeIfNames(path: string, pid: number): void {
  if (readPid(path) === pid) rmSync(path, { force: true });
}

// --- internal ---

/**
 * The daemon the folder's lock file names, when it proves to be ours where it listens (a
 * port-server executable whose /healthz reports its pid and our database), with that /healthz
 * and the URL it answers on.
 */
async function lockHolder(
  io: Io,
  lockFile: string,
  db: string,
): Promise<(Required<LockHolder> & { health: Health; base: string }) | undefined> {
  const holder = readLockHolder(lockFile);
  if (!holder?.address) return undefined;
  let client: Client;
  try {
    client = new Client({ ...io.env, [ENV.addr]: holder.address });
  } catch {
    return undefined; // not a loopback address: not something our daemon wrote
  }
  const health: Health | undefined = await client.health().catch(() => undefined);
  const proved = health && disprove(holder.pid, health, { db, address: client.base }) === undefined;
  return proved
    ? { pid: holder.pid, address: holder.address, health, base: client.base }
    : undefined;
}

function readPid(path: string): number | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(text) && Number(text) > 1 ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}
