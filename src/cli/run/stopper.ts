// Stopping a dev server's whole tree, whatever signal asked for it. A terminal's Ctrl-C reaches
// every process of the foreground group; a SIGINT sent to portctl alone (an agent, turbo,
// concurrently, an IDE: no terminal) would reach only the child, and `npm run dev` is npm → sh
// → vite, where sh waits on vite and passes nothing on: the server kept running and its port.
// So a signal goes to every process of the tree, as a terminal would send it; and whatever is
// still alive after a grace period gets SIGTERM, then SIGKILL.
import { readText } from "../../core/files.ts";
import { isAlive } from "../../core/processes.ts";
import { safe } from "../output.ts";
import { processTable, treeOf } from "./tree.ts";

export interface StopPolicy {
  /** How long the tree has to end after the first stop signal before SIGTERM. */
  graceMs: number;
  /** How long after SIGTERM before SIGKILL. */
  killMs: number;
  /**
   * false: a signal sent to portctl goes to the child alone (Compose, which stops its containers
   * and counts a second signal as "force"); the grace period still ends with the tree's stop.
   */
  wholeTree: boolean;
}

export interface Stopper {
  /**
   * A stop signal for `child`: delivered unless the terminal has already delivered it to the
   * whole group (`delivered`); either way the tree must be gone within the policy's time.
   */
  stop(child: number, sig: NodeJS.Signals, delivered: boolean): void;
  /** Once the child has exited: resolves when the tree a stop was asked of has ended. */
  finished(): Promise<void>;
}

export function treeStopper(policy: StopPolicy, warn: (line: string) => void): Stopper {
  // Every process seen in the tree since the first stop, with its start time: one that npm
  // left behind (reparented to init) is still ours to stop, one that reused its PID is not.
  const members = new Map<number, string | undefined>();
  let child = 0;
  let done: Promise<void> | undefined;
  const refresh = () => {
    const table = processTable();
    for (const [pid, start] of members) {
      const now = table.get(pid);
      if (!now || now.zombie || now.start !== start) members.delete(pid);
    }
    const roots = [child, ...members.keys()];
    for (const [pid, start] of treeOf(roots, table)) members.set(pid, start);
    return members;
  };
  const send = (pids: Iterable<number>, sig: NodeJS.Signals) => {
    for (const pid of pids) signal(pid, sig);
  };
  const gone = async (ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (refresh().size === 0) return true;
      if (Date.now() >= deadline) return false;
      await Bun.sleep(100);
    }
  };
  const escalate = async (first: NodeJS.Signals) => {
    if (await gone(policy.graceMs)) return;
    warn(
      `${describe(members)} still running ${policy.graceMs / 1000} s after ${first}: sending SIGTERM`,
    );
    send(members.keys(), "SIGTERM");
    if (await gone(policy.killMs)) return;
    warn(`${describe(members)} still running after SIGTERM: sending SIGKILL`);
    send(members.keys(), "SIGKILL");
    await gone(policy.killMs);
  };
  return {
    stop(pid, sig, delivered) {
      child = pid;
      refresh();
      if (!delivered) {
        if (policy.wholeTree) send(members.keys(), sig);
        else signal(pid, sig);
      }
      done ??= escalate(sig);
    },
    async finished() {
      await done;
    },
  };
}

// --- internal ---

function signal(pid: number, sig: NodeJS.Signals): void {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** `portctl run: sh (pid 12), sleep (pid 13)`: names escaped, at most four shown. */
function describe(members: Map<number, string | undefined>): string {
  const pids = [...members.keys()];
  const shown = pids.slice(0, 4).map((pid) => {
    const name = readText(`/proc/${pid}/comm`)?.trim();
    return name ? `${safe(name)} (pid ${pid})` : `pid ${pid}`;
  });
  const more = pids.length > 4 ? ` and ${pids.length - 4} more` : "";
  return `portctl run: ${shown.join(", ")}${more}`;
}
