// When did a process start? A PID alone does not name a process: the kernel hands a freed PID
// to the next process that asks. A lease records its process's start time too, and ends when
// the PID is gone or now belongs to a process that started at another time.
import { readFileSync } from "node:fs";
import { readText } from "./files.ts";
import { rfc3339 } from "./model.ts";

export interface Processes {
  /** Start times (RFC 3339 UTC) of those of `pids` that are running; dead ones are absent. */
  startTimes(pids: number[]): Map<number, string>;
}

export function systemProcesses(platform: NodeJS.Platform = process.platform): Processes {
  return platform === "linux" ? procProcesses("/proc") : psProcesses();
}

/** Alive and not a zombie (an orphan nobody reaped still answers kill 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = readText(`/proc/${pid}/stat`);
  return !stat || !/^\d+ \(.*\) Z/.test(stat);
}

// --- internal ---

/**
 * Linux: field 22 of `/proc/<pid>/stat` is the start time in clock ticks after boot, and `btime`
 * in `/proc/stat` is the boot time; USER_HZ, the unit of /proc, is 100 on every architecture.
 */
function procProcesses(root: string): Processes {
  let boot: number | undefined;
  return {
    startTimes(pids) {
      boot ??= bootTime(root);
      const out = new Map<number, string>();
      for (const pid of pids) {
        const ticks = startTicks(root, pid);
        if (ticks !== null) out.set(pid, rfc3339(new Date((boot + ticks / USER_HZ) * 1000)));
      }
      return out;
    },
  };
}

/**
 * macOS and the BSDs: one `ps` for all the PIDs. `lstart` is local time, to the second: ps is
 * asked for it in UTC and it is read as UTC, so the answer never depends on which time zone
 * this process's date functions last took.
 */
function psProcesses(): Processes {
  return {
    startTimes(pids) {
      const out = new Map<number, string>();
      if (pids.length === 0) return out;
      const res = Bun.spawnSync(["ps", "-o", "pid=,lstart=", "-p", pids.join(",")], {
        stdout: "pipe",
        stderr: "ignore",
        env: { ...process.env, LC_ALL: "C", LANG: "C", TZ: "UTC" },
      });
      for (const line of res.stdout.toString().split("\n")) {
        const m = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
        const t = m?.[2] ? Date.parse(`${m[2]} UTC`) : Number.NaN;
        if (m && !Number.isNaN(t)) out.set(Number(m[1]), rfc3339(new Date(t)));
      }
      return out;
    },
  };
}

const USER_HZ = 100;

function bootTime(root: string): number {
  const m = /^btime (\d+)$/m.exec(readFileSync(`${root}/stat`, "latin1"));
  if (!m?.[1]) throw new Error(`${root}/stat has no btime line`);
  return Number(m[1]);
}

function startTicks(root: string, pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`${root}/${pid}/stat`, "latin1");
  } catch {
    return null; // no such process (or not visible from here)
  }
  // The command name (field 2) is in parentheses and may hold spaces or ")": split after the
  // last one. What follows starts at field 3 (state); field 22 is the 20th of those.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // A zombie has exited: its lease is over even though its PID is still taken.
  if (fields[0] === "Z" || fields[0] === "X") return null;
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : null;
}
