// A child's descendants, so that a stop reaches the dev server itself and not only the package
// manager in front of it: `npm run dev` is npm → sh → vite, and a SIGTERM to npm alone ends npm
// and sh but leaves vite running, holding the port, under init.
import { readdirSync, readFileSync } from "node:fs";
import { RUN_GUARD_GRACE_S } from "../../core/config.ts";

/** Every live descendant of `root` (not `root` itself), from /proc on Linux, `ps` elsewhere. */
export function descendants(root: number): number[] {
  const parents = parentTable();
  const out: number[] = [];
  for (const [pid] of parents) {
    for (let p = parents.get(pid), hops = 0; p !== undefined && hops < 64; p = parents.get(p)) {
      if (p === root) {
        out.push(pid);
        break;
      }
      hops++;
    }
  }
  return out;
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

function parentTable(): Map<number, number> {
  const table = new Map<number, number>();
  if (process.platform === "linux") {
    let names: string[] = [];
    try {
      names = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
    } catch {
      return table;
    }
    for (const name of names) {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        // After "pid (comm)": state, then ppid. comm may hold spaces and parentheses.
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        table.set(Number(name), ppid);
      } catch {
        // exited while we looked
      }
    }
    return table;
  }
  try {
    const res = Bun.spawnSync(["ps", "-A", "-o", "pid=", "-o", "ppid="], { stderr: "ignore" });
    for (const line of res.stdout.toString().split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined) table.set(pid, ppid);
    }
  } catch {
    // no ps: only the child itself is reached
  }
  return table;
}
