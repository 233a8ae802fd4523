// The compiled binaries, built once per test run into a temp folder (every test file of the run
// shares the one build), removed when the process exits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
let built: Promise<string> | undefined;

/** The folder holding `portctl` and `port-server` (one executable, hard-linked). */
export function builtBinaries(): Promise<string> {
  built ??= build();
  return built;
}

// --- internal ---

async function build(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "port-server-bin-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const proc = Bun.spawn([process.execPath, join(ROOT, "scripts/build.ts"), "--outdir", dir], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await proc.exited) !== 0)
    throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
  return dir;
}
