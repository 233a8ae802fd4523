// Processes seen from outside, for tests of the daemon lifecycle: is a PID alive (zombies count
// as dead), which `port-server --port N` processes exist, bounded waiting, and a child's output
// read as it comes.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";

/** Alive and not a zombie (nobody may reap a detached daemon in a container). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc (macOS): kill 0 is all we have
  }
}

/** Live `port-server --port <port>` processes: the daemons on one test's port, and only those. */
export function daemonPids(port: number): number[] {
  if (!existsSync("/proc")) {
    const res = Bun.spawnSync(["pgrep", "-f", `port-server --port ${port}$`]);
    return res.stdout.toString().split(/\s+/).filter(Boolean).map(Number);
  }
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // exited while we looked
    }
    const at = argv.indexOf("--port");
    if (basename(argv[0] ?? "") === "port-server" && at > 0 && argv[at + 1] === String(port)) {
      pids.push(Number(name));
    }
  }
  return pids.sort((a, b) => a - b);
}

/** SIGKILL, ignoring a process that is already gone. */
export function killHard(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Polls `ok` until it holds or `timeoutMs` passes; the caller asserts afterwards. */
export async function waitUntil(ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok() && Date.now() < deadline) await Bun.sleep(20);
}

/** Reads a stream to the end in the background, so the child never blocks on a full pipe. */
export function drain(stream: ReadableStream<Uint8Array>): { text(): string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
    text += decoder.decode();
  })();
  return { text: () => text, done };
}
