// The compiled binaries, built once per test run and shared by every test file of the run.
// `bun test` fires no exit hook to clean up after, so builds go under node_modules/.cache, one
// folder per test process, and each run first removes the folders of runs that have ended.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const CACHE = join(ROOT, "node_modules/.cache/port-server-test-bin");
let built: Promise<string> | undefined;

/** The folder holding `portctl` and `port-server` (one executable, hard-linked). */
export function builtBinaries(): Promise<string> {
  built ??= build();
  return built;
}

export interface BinaryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built executable to completion; killed after `timeoutMs` so a hang fails the test. */
export async function runBinary(
  path: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<BinaryRun> {
  const proc = Bun.spawn([path, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode, stdout, stderr };
}

// --- internal ---

async function build(): Promise<string> {
  removeEndedRuns();
  const dir = join(CACHE, String(process.pid));
  mkdirSync(dir, { recursive: true });
  const proc = Bun.spawn([process.execPath, join(ROOT, "scripts/build.ts"), "--outdir", dir], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await proc.exited) !== 0)
    throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
  return dir;
}

function removeEndedRuns(): void {
  let entries: string[];
  try {
    entries = readdirSync(CACHE);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name !== String(process.pid) && !running(Number(name))) {
      rmSync(join(CACHE, name), { recursive: true, force: true });
    }
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
