// Who holds a listening port: the process the kernel names, and, when that process is a
// container engine's proxy, the container the engine says publishes it. The engine is asked
// only then: a free port, or one a plain process holds, never touches it. And whether that
// holder belongs to a checkout (its Compose folder, or its process's working folder).
import { readlinkSync, realpathSync } from "node:fs";
import { resolve, sep } from "node:path";
import { type Engine, isEngineProcess } from "./engine.ts";
import type { MachineListener } from "./listeners.ts";
import type { SystemUse } from "./model.ts";

/** `sys` (a probe's answer for `port`) with the container behind an engine's proxy, if any. */
export async function withContainer(
  sys: SystemUse,
  port: number,
  engine: Engine | undefined,
): Promise<SystemUse> {
  if (!engine || !sys.in_use || !isEngineProcess(sys.process)) return sys;
  const container = (await engine.published(port)).get(port);
  return container ? { ...sys, container } : sys;
}

/** The machine's listeners, those behind an engine's proxy with their container (one question). */
export async function listenersWithContainers(
  listeners: MachineListener[],
  engine: Engine | undefined,
): Promise<MachineListener[]> {
  if (!engine || !listeners.some((l) => isEngineProcess(l.process))) return listeners;
  const published = await engine.published();
  return listeners.map((l) => {
    const container = isEngineProcess(l.process) ? published.get(l.port) : undefined;
    return container ? { ...l, container } : l;
  });
}

/**
 * Whether a listener belongs to `checkout`: a container of a Compose project whose folder is in
 * it, or a process whose working folder is. An engine's proxy whose container is unknown, or a
 * process we cannot see, does not.
 */
export function heldByCheckout(
  sys: SystemUse,
  checkout: string,
  cwdOf: (pid: number) => string | undefined = processCwd,
): boolean {
  // The reply came from the daemon: shapes are checked here, not assumed.
  if (sys.container) {
    const dir = sys.container.working_dir;
    return typeof dir === "string" && dir !== "" && inside(dir, checkout);
  }
  if (isEngineProcess(sys.process) || !Number.isSafeInteger(sys.pid) || !sys.pid) return false;
  const cwd = cwdOf(sys.pid);
  return cwd !== undefined && inside(cwd, checkout);
}

/** A process's working folder (Linux: /proc; elsewhere lsof), or undefined where we cannot see. */
export function processCwd(pid: number): string | undefined {
  if (process.platform === "linux") {
    try {
      return readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      return undefined;
    }
  }
  try {
    const res = Bun.spawnSync(["lsof", "-a", "-p", String(pid), "-d", "cwd", "-Fn"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    const line = res.stdout
      .toString()
      .split("\n")
      .find((l) => l.startsWith("n/"));
    return line?.slice(1);
  } catch {
    return undefined;
  }
}

// --- internal ---

/** `path` is `dir` or below it, compared as given and with links resolved. */
function inside(path: string, dir: string): boolean {
  const under = (p: string, d: string) => p === d || p.startsWith(d.endsWith(sep) ? d : d + sep);
  if (under(resolve(path), resolve(dir))) return true;
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return under(real(path), real(dir));
}
