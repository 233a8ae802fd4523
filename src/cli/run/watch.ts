// After the start: does the dev server listen on the registered port? A tool outside the
// framework table (or one that moved to another port by itself) would leave the registry
// pointing at a port nothing listens on. `portctl run` looks at the ports its child's tree
// listens on, twice a second, until the registered one shows up; when only others do, it says so.
import { readdirSync, readlinkSync } from "node:fs";
import { RUN_WATCH_MS, RUN_WATCH_POLL_MS, RUN_WATCH_SETTLE_MS } from "../../core/config.ts";
import { machineListeners } from "../../core/listeners.ts";
import { kernelReader, readProcListeners } from "../../core/probe.ts";
import { treeOf } from "./tree.ts";

export interface Listening {
  port: number;
  pid: number;
}

/**
 * Watches `root`'s tree; calls `elsewhere` once with what it listens on if, for a moment, that
 * is other ports and not `port`. Returns the function that stops the watch.
 */
export function watchPort(
  root: number,
  port: number,
  elsewhere: (seen: Listening[]) => void,
): () => void {
  const started = Date.now();
  let since: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const look = () => {
    timer = undefined;
    let seen: Listening[];
    try {
      seen = treeListening(new Set(treeOf([root]).keys()));
    } catch {
      return; // nothing to see with: say nothing rather than something wrong
    }
    if (seen.some((l) => l.port === port)) return;
    if (seen.length === 0) since = undefined;
    else since ??= Date.now();
    // A server may open a helper port a moment before its main one (HMR, a debugger).
    if (since !== undefined && Date.now() - since >= RUN_WATCH_SETTLE_MS) return elsewhere(seen);
    if (Date.now() - started < RUN_WATCH_MS) schedule();
  };
  const schedule = () => {
    timer = setTimeout(look, RUN_WATCH_POLL_MS);
    // The watch never keeps portctl alive on its own.
    timer.unref?.();
  };
  schedule();
  return () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
}

/** The TCP ports these processes listen on (Linux: their fds against the kernel's table). */
export function treeListening(pids: Set<number>): Listening[] {
  if (process.platform !== "linux") {
    return machineListeners()
      .filter((l) => l.pid !== undefined && pids.has(l.pid))
      .map((l) => ({ port: l.port, pid: l.pid as number }));
  }
  const byInode = new Map<string, number>();
  for (const l of kernelReader()?.read() ?? readProcListeners("/proc"))
    byInode.set(`socket:[${l.inode}]`, l.port);
  const out = new Map<number, Listening>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const port = byInode.get(link);
      if (port !== undefined && !out.has(port)) out.set(port, { port, pid });
    }
  }
  return [...out.values()].sort((a, b) => a.port - b.port);
}
