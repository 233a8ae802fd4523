// Processes and temp state for the benchmarks: every temp dir and every server started here is
// recorded, so `cleanup()` can stop them (SIGTERM, then SIGKILL) and remove the dirs even when
// a benchmark throws or the run is interrupted.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const ROOT = resolve(import.meta.dir, "..", "..");
export const PORTCTL = join(ROOT, "bin", "portctl");
export const PORT_SERVER = join(ROOT, "bin", "port-server");
export const REFERENCE_SERVER = join(ROOT, "bench", "reference-server.ts");

export interface Server {
  name: string;
  pid: number;
  port: number;
  url: string;
  dir: string;
  db: string;
  stop(): Promise<void>;
}

export function assertBuilt(): void {
  for (const bin of [PORTCTL, PORT_SERVER]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make build\` first`);
  }
}

/** A fresh temp dir, removed by `cleanup()`. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `port-server-bench-${label}-`));
  dirs.add(dir);
  return dir;
}

/** `bin/port-server --port 0` on its own state dir (or `dir`), as the product runs it. */
export function startDaemon(opts: { dir?: string; range?: string } = {}): Promise<Server> {
  const dir = opts.dir ?? tempDir("daemon");
  const db = join(dir, "ports.db");
  const args = ["--port", "0", "--db", db, "--pidfile", join(dir, "port-server.pid")];
  if (opts.range) args.push("--range", opts.range);
  return spawnServer("port-server", [PORT_SERVER, ...args], dir, db);
}

/** The bare `Bun.serve` + `bun:sqlite` server of bench/reference-server.ts. */
export function startReference(opts: { dir?: string; range?: string } = {}): Promise<Server> {
  const dir = opts.dir ?? tempDir("reference");
  const db = join(dir, "ports.db");
  const args = [REFERENCE_SERVER, "--port", "0", "--db", db];
  if (opts.range) args.push("--range", opts.range);
  return spawnServer("reference", [process.execPath, ...args], dir, db);
}

/** Records a PID we did not spawn ourselves (a daemon `portctl start` detached). */
export function trackPid(pid: number): void {
  foreign.add(pid);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  foreign.delete(pid);
  if (!signal(pid, "SIGTERM")) return;
  const deadline = performance.now() + graceMs;
  while (alive(pid)) {
    if (performance.now() > deadline) {
      signal(pid, "SIGKILL");
      await Bun.sleep(50);
      return;
    }
    await Bun.sleep(10);
  }
}

/** Stops every server and tracked PID and removes every temp dir. Safe to call twice. */
export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
  await Promise.all([...foreign].map((pid) => stopPid(pid)));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** A port that was free a moment ago (bind to 0, read, release). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Resident and peak resident memory in bytes, from /proc, else `ps`. */
export function memory(pid: number): { rss: number; peak?: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
  } catch {
    const out = Bun.spawnSync(["ps", "-o", "rss=", "-p", String(pid)]).stdout.toString();
    return { rss: Number(out.trim()) * 1024 };
  }
}

/** CPU time (user + system) a process has used so far, in seconds; NaN where unknown. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), from the 3rd: utime is the 14th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ: 100 on every Linux architecture Bun runs on. */
const CLOCK_TICKS = 100;

export interface Timed {
  ms: number;
  code: number;
  stdout: string;
}

/** Runs a command to completion and returns its wall time, from spawn to exit. */
export async function timeRun(cmd: string[], env: Record<string, string>): Promise<Timed> {
  const start = performance.now();
  const proc = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, , code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { ms: performance.now() - start, code, stdout };
}

/** The environment for the product's processes: the caller's, minus anything port-server. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("PORT_SERVER_")) env[k] = v;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

// --- internal ---

const children = new Set<Subprocess>();
const foreign = new Set<number>();
const dirs = new Set<string>();
const READY = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const START_TIMEOUT_MS = 15000;

export async function spawnServer(
  name: string,
  cmd: string[],
  dir: string,
  db: string,
): Promise<Server> {
  const errLog = join(dir, "stderr.log");
  const errFd = openSync(errLog, "a", 0o600);
  const proc = Bun.spawn(cmd, {
    env: cleanEnv({ PORT_SERVER_HOME: dir, HOME: dir, PORT_SERVER_PROXY_PORT: "0" }),
    cwd: dir,
    stdin: "ignore",
    stdout: "pipe",
    stderr: errFd,
  });
  closeSync(errFd);
  children.add(proc);
  let port: number;
  try {
    port = await readyPort(proc);
  } catch (err) {
    await stopChild(proc);
    const log = readFileSync(errLog, "utf8").trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${name} did not start: ${(err as Error).message}${log ? ` — ${log}` : ""}`);
  }
  return {
    name,
    pid: proc.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    db,
    stop: () => stopChild(proc),
  };
}

/** Reads stdout until the "listening on" line, then keeps draining it in the background. */
async function readyPort(proc: Subprocess<"ignore", "pipe", number>): Promise<number> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timeout = Bun.sleep(START_TIMEOUT_MS).then(() => "timeout" as const);
  for (;;) {
    const chunk = await Promise.race([reader.read(), timeout]);
    if (chunk === "timeout") throw new Error(`no "listening" line within ${START_TIMEOUT_MS} ms`);
    if (chunk.done) throw new Error(`exited (code ${await proc.exited}) before listening`);
    text += decoder.decode(chunk.value, { stream: true });
    const m = READY.exec(text);
    if (m) {
      void drain(reader);
      return Number(m[1]);
    }
  }
}

async function drain(reader: { read(): Promise<{ done: boolean }> }): Promise<void> {
  try {
    while (!(await reader.read()).done) {
      // discard: the shutdown lines are of no interest, but the pipe must not fill up
    }
  } catch {
    // the process is gone
  }
}

async function stopChild(proc: Subprocess, graceMs = 5000): Promise<void> {
  children.delete(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs)]);
  if (exited !== true) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  if (!signal(pid, 0)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}
