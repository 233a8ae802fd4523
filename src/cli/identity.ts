// Is a process this registry's daemon? Anything can listen on the configured port and answer
// /healthz, and a PID file can name a pid the system has since reused, so a pid is trusted only
// when three things agree: it is a plausible pid, its executable is a port-server binary, and
// the daemon on our address reports that pid and our database.
import { existsSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { isAlive } from "../core/processes.ts";
import { isCompiled } from "../core/version.ts";
import type { Health } from "./client.ts";
import { safe } from "./output.ts";

/**
 * From source, the daemon's entry (`src/server/main.ts`, run by bun): what `portctl start` and
 * `service install` run, and what proves a bun process is ours. Undefined when compiled.
 */
export function serverSource(): string | undefined {
  return !isCompiled() && existsSync(SOURCE_MAIN) ? SOURCE_MAIN : undefined;
}

/** Why `pid` cannot be taken for our daemon, or undefined when it is proved to be. */
export function disprove(
  pid: unknown,
  health: Health | undefined,
  ours: { db: string; address: string },
): string | undefined {
  if (!isPid(pid)) return "it is not a process id port-server could have";
  if (!isAlive(pid)) return "it is not running";
  const exe = portServerExecutable(pid);
  if (exe !== true) return `it is not a port-server executable (${safe(exe)})`;
  if (!health) return `nothing answers on ${ours.address} to confirm it is this registry's daemon`;
  if (health.pid !== pid) return `the daemon on ${ours.address} is pid ${pidText(health.pid)}`;
  if (typeof health.db !== "string" || !samePath(health.db, ours.db)) {
    return `it serves ${typeof health.db === "string" ? safe(health.db) : "an unnamed database"}, not this registry's ${ours.db}`;
  }
  return undefined;
}

/** Another user's port-server, as the kernel confirms it: the one registry of this machine. */
export interface OtherUser {
  pid: number;
  uid: number;
  user: string;
}

/**
 * The daemon answering is another user's (#28): its /healthz names a uid that is not ours, and
 * the kernel says its pid runs as that uid (we cannot read another user's /proc/<pid>/exe, so
 * disprove() would call it "not a port-server executable"). Undefined otherwise.
 */
export function anotherUsers(health: Health | undefined): OtherUser | undefined {
  if (!health || !isPid(health.pid) || typeof health.uid !== "number") return undefined;
  const me = process.getuid?.();
  if (me === undefined || health.uid === me) return undefined;
  if (processUid(health.pid) !== health.uid) return undefined;
  const user = typeof health.user === "string" ? health.user : `uid ${health.uid}`;
  return { pid: health.pid, uid: health.uid, user };
}

/** `port-server of user alice is running on 127.0.0.1:51234; your allocations go there` */
export function otherUserLine(other: OtherUser, address: string): string {
  return `port-server of user ${safe(other.user)} is running on ${safe(address)}; your allocations go there`;
}

/** A pid as a reply gave it, for a message: `812`, `-1`, `"812"`, `null` (escaped). */
export function pidText(pid: unknown): string {
  return safe(typeof pid === "number" ? String(pid) : (JSON.stringify(pid) ?? String(pid)));
}

/** An integer > 1: never 0 (our process group), -1 (every process we may signal) or init. */
export function isPid(pid: unknown): pid is number {
  return typeof pid === "number" && Number.isSafeInteger(pid) && pid > 1;
}

/**
 * true when `pid` runs a port-server binary, else the executable it runs. Judged by the
 * executable the kernel reports, never by arguments (`tail -f src/server/main.ts` is not it):
 * a file named `port-server`; this very executable started under that name (one binary, two
 * names); or, from source, this bun running this checkout's `src/server/main.ts`.
 */
export function portServerExecutable(pid: number): true | string {
  const proc = describeProcess(pid);
  if (!proc) return "unknown";
  if (basename(proc.exe) === "port-server") return true;
  if (!sameFile(proc.exe, process.execPath)) return proc.exe;
  if (basename(proc.argv[0] ?? "") === "port-server") return true;
  const script = proc.argv[1];
  return script !== undefined && sameFile(resolve(proc.cwd, script), SOURCE_MAIN)
    ? true
    : `${proc.exe}${script ? ` ${script}` : ""}`;
}

// --- internal ---

const SOURCE_MAIN = join(import.meta.dir, "..", "server", "main.ts");

interface ProcessInfo {
  exe: string;
  argv: string[];
  cwd: string;
}

/** The executable, arguments and folder of a process: /proc on Linux, `ps` elsewhere. */
function describeProcess(pid: number): ProcessInfo | undefined {
  try {
    // " (deleted)": the binary was replaced (an upgrade) while it ran; the name still counts.
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return { exe, argv, cwd: readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    if (process.platform === "linux") return undefined;
  }
  // macOS: `comm` is the executable's path; `args` is split on spaces (enough for the argv[0]
  // and script checks, which only ever compare whole paths without spaces to ours).
  const ps = (field: string) =>
    Bun.spawnSync(["ps", "-o", `${field}=`, "-p", String(pid)], { stderr: "ignore" })
      .stdout.toString()
      .trim();
  const exe = ps("comm");
  return exe ? { exe, argv: ps("args").split(/\s+/), cwd: "/" } : undefined;
}

/** The uid a process runs as: the owner of /proc/<pid> (readable by anyone), `ps` on macOS. */
function processUid(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    if (process.platform === "linux") return undefined;
  }
  const out = Bun.spawnSync(["ps", "-o", "uid=", "-p", String(pid)], { stderr: "ignore" });
  const text = out.stdout.toString().trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Two spellings of one path (relative, through a symlinked folder) are the same database. */
function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}
