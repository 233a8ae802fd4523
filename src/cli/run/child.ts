// The dev server as a child of `portctl run`: the terminal is inherited (a TTY stays a TTY, the
// child stays in our process group so Ctrl-C and job control reach it), SIGINT, SIGTERM, SIGHUP
// and SIGQUIT sent to portctl stop the child's whole tree (stopper.ts), and the exit status is
// the child's (128+n for signal n).
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import type { Subprocess } from "bun";
import type { Env } from "../../core/config.ts";
import { type StopPolicy, treeStopper } from "./stopper.ts";
import { GUARD_SCRIPT } from "./tree.ts";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;
/** What a terminal sends its whole foreground group from the keyboard (Ctrl-C, Ctrl-\\). */
const KEYBOARD: readonly NodeJS.Signals[] = ["SIGINT", "SIGQUIT"];

/** What `exec` returns when the command cannot be started at all (as a shell does). */
export const NOT_FOUND_EXIT = 127;

export interface ChildOptions {
  env: Env;
  cwd: string;
  stop: StopPolicy;
  /** Where portctl's own lines go (a stop that had to be forced). */
  warn: (line: string) => void;
  /** Called once the child runs; what it returns is called when it has ended. */
  onSpawn?: (pid: number) => () => void;
}

/**
 * Runs `argv` to its end and returns the exit status to report. Throws only when the command
 * cannot be started (`Error` whose `code` is ENOENT, EACCES…).
 */
export async function exec(argv: string[], opts: ChildOptions): Promise<number> {
  let child: Subprocess | undefined;
  // A signal in the moment between the spawn and the child's first output would otherwise
  // still find portctl with the default action (dying, leaving the child to the guard).
  const early: NodeJS.Signals[] = [];
  const stopper = treeStopper(opts.stop, opts.warn);
  const pass = (sig: NodeJS.Signals) => {
    if (!child) return void early.push(sig);
    // A Ctrl-C at the terminal has already reached every process of the foreground group;
    // sending it again would look like a second Ctrl-C ("press again to force", says `docker
    // compose up`). The tree must end all the same.
    stopper.stop(child.pid, sig, KEYBOARD.includes(sig) && inForeground());
  };
  const handlers = FORWARDED.map((sig) => [sig, () => pass(sig)] as const);
  for (const [sig, handler] of handlers) process.on(sig, handler);
  let guard: { release(): Promise<void> } | undefined;
  try {
    child = Bun.spawn(argv, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["inherit", "inherit", "inherit"],
    });
    guard = watchdog(child.pid);
    for (const sig of early) pass(sig);
    const unwatch = opts.onSpawn?.(child.pid);
    await child.exited;
    unwatch?.();
    // What npm left behind (vite, reparented to init) is stopped too before portctl returns.
    await stopper.finished();
  } finally {
    for (const [sig, handler] of handlers) process.off(sig, handler);
    await guard?.release();
  }
  return exitStatus(child.exitCode, child.signalCode);
}

// --- internal ---

/** 0–255 for an exit, 128+n for signal n (what a shell reports). */
function exitStatus(code: number | null, signal: NodeJS.Signals | number | null): number {
  if (code !== null) return code;
  const n = typeof signal === "number" ? signal : signal ? constants.signals[signal] : undefined;
  return 128 + (n ?? 0);
}

/**
 * A SIGKILL of portctl cannot be caught, and the child would live on, holding the port and
 * writing to a terminal that its shell has taken back: a small `sh` beside it (GUARD_SCRIPT)
 * stops the child's tree when our pipe to it closes without a "done".
 */
function watchdog(pid: number): { release(): Promise<void> } {
  let proc: ReturnType<typeof spawnGuard> | undefined;
  try {
    proc = spawnGuard(pid);
  } catch {
    // No /bin/sh: run without the guard rather than not at all.
  }
  return {
    async release() {
      if (!proc) return;
      proc.stdin.write("done\n");
      await proc.stdin.end();
      await proc.exited;
    },
  };
}

function spawnGuard(pid: number) {
  return Bun.spawn(["/bin/sh", "-c", GUARD_SCRIPT, "portctl-run-guard", String(pid)], {
    stdin: "pipe",
    stdout: "ignore",
    stderr: "ignore",
  });
}

/**
 * Whether portctl's process group is the foreground group of its terminal: then a SIGINT most
 * likely came from the keyboard, to the whole group. From /proc on Linux (fields pgrp and
 * tpgid), from `ps` elsewhere; when unknown, false (the signal is passed on).
 */
function inForeground(): boolean {
  try {
    if (process.platform === "linux") {
      const stat = readFileSync("/proc/self/stat", "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return f[2] !== undefined && f[2] === f[5];
    }
    const res = Bun.spawnSync(["ps", "-o", "pgid=,tpgid=", "-p", String(process.pid)]);
    const [pgid, tpgid] = res.stdout.toString().trim().split(/\s+/);
    return pgid !== undefined && pgid === tpgid;
  } catch {
    return false;
  }
}
