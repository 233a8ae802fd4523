// A child's descendants, so that a stop reaches the dev server itself and not only the package
// manager in front of it: `npm run dev` is npm → sh → vite, and a SIGTERM to npm alone ends npm
// and sh but leaves vite running, holding the port, under init.
import { readdirSync, readFileSync } from "node:fs";
import { RUN_GUARD_GRACE_S } from "../../core/config.ts";

/** Every live descendant of `root` (not `root` itself), from /proc on Linux, `ps` elsewhere. */
export function descendants(root: number): number[] {
  return [...treeOf([root], processTable()).keys()].filter((pid) => pid !== root);
}

/** A process as `ps` or /proc shows it; `start` tells a PID's process from a later one's. */
export interface ProcessEntry {
  ppid: number;
  /** Start time in clock ticks after boot (Linux); undefined where unknown. */
  start?: string;
  /** Ended but not yet reaped: holds no port, needs no signal. */
  zombie: boolean;
}

/**
 * `roots` and every live descendant of theirs, each with its start time: the members of a
 * dev server's tree at this moment (npm → sh → vite → esbuild).
 */
export function treeOf(
  roots: Iterable<number>,
  table: Map<number, ProcessEntry> = processTable(),
): Map<number, string | undefined> {
  const wanted = new Set(roots);
  const out = new Map<number, string | undefined>();
  for (const [pid, entry] of table) {
    if (entry.zombie) continue;
    let p: number | undefined = pid;
    for (let hops = 0; p !== undefined && hops < 64; hops++) {
      if (wanted.has(p)) {
        out.set(pid, entry.start);
        break;
      }
      p = table.get(p)?.ppid;
    }
  }
  return out;
}

/** Every process of the machine that we can see, by PID. */
export function processTable(): Map<number, ProcessEntry> {
  return process.platform === "linux" ? procTable() : psTable();
}

/**
 * The stopper that runs beside the child, as `sh -c GUARD_SCRIPT guard <pid>`: it waits on its
 * standard input (a pipe from portctl) and, if that ends without "done" (portctl was killed),
 * stops the child and its descendants: SIGTERM, then SIGKILL for whatever is left after
 * RUN_GUARD_GRACE_S.
 * It ignores the terminal's signals: a Ctrl-C is for the dev server, and portctl says "done".
 */
export const GUARD_SCRIPT = `trap '' INT TERM HUP QUIT
read -r line
[ "$line" = done ] && exit 0
tree() {
  ps -A -o pid= -o ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; n = 0
      while (q != root && (q in parent) && n < 64) { q = parent[q]; n++ }
      if (q == root) print p } }'
}
pids=$(tree "$1")
[ -n "$pids" ] || exit 0
kill -TERM $pids 2>/dev/null
i=0
while [ $i -lt ${RUN_GUARD_GRACE_S * 10} ] && kill -0 $pids 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill -KILL $pids 2>/dev/null
exit 0`;

// --- internal ---

function procTable(): Map<number, ProcessEntry> {
  const table = new Map<number, ProcessEntry>();
  let names: string[] = [];
  try {
    names = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return table;
  }
  for (const name of names) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // After "pid (comm)": state, ppid, …, and field 22 the start time. comm may hold spaces
      // and parentheses, hence the last ")".
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), { ppid: Number(f[1]), start: f[19], zombie: f[0] === "Z" });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

function psTable(): Map<number, ProcessEntry> {
  const table = new Map<number, ProcessEntry>();
  try {
    const res = Bun.spawnSync(["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "stat="], {
      stderr: "ignore",
    });
    for (const line of res.stdout.toString().split("\n")) {
      const [pid, ppid, stat] = line.trim().split(/\s+/);
      if (pid && ppid) {
        table.set(Number(pid), { ppid: Number(ppid), zombie: (stat ?? "").startsWith("Z") });
      }
    }
  } catch {
    // no ps: only the child itself is reached
  }
  return table;
}
