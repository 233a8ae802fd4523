// Real dev servers from npm for the end-to-end tests: each fixture's pinned dependencies are
// installed once into a cache outside the repository (~/.cache/port-server-test/names, or
// $PORT_SERVER_TEST_CACHE), keyed by its package.json, and each test's checkout gets the
// fixture's files and a hard-linked copy of node_modules (Next.js compiles nothing outside its
// project folder, so a symlink will not do). Without the registry the tests skip with one
// line, except under CI=true, where that is a failure.
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { killHard } from "./processes.ts";

export type Installed = { ok: true; dir: string } | { ok: false; why: string };

/** The fixture's node_modules, installed if not cached yet. */
export async function installed(fixture: string): Promise<Installed> {
  const root = cacheRoot();
  const manifest = readFileSync(join(fixture, "package.json"), "utf8");
  const key = createHash("sha256").update(manifest).digest("hex").slice(0, 12);
  const dir = join(root, "names", `${fixture.split("/").at(-1)}-${key}`);
  if (existsSync(join(dir, READY))) return { ok: true, dir };
  mkdirSync(join(root, "names"), { recursive: true });
  const tmp = mkdtempSync(join(root, "names", "installing-"));
  writeFileSync(join(tmp, "package.json"), manifest);
  const proc = Bun.spawn(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: tmp,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: tmp,
      npm_config_cache: join(root, "npm"),
      npm_config_update_notifier: "false",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => killHard(proc.pid), 300_000);
  const err = await new Response(proc.stderr).text();
  clearTimeout(timer);
  if ((await proc.exited) !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const why = err.trim().split("\n")[0] ?? "npm install failed";
    if (
      process.env.CI === "true" ||
      !/ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|network/i.test(err)
    ) {
      throw new Error(`npm install of ${fixture} failed:\n${err}`);
    }
    return { ok: false, why };
  }
  writeFileSync(join(tmp, READY), "");
  try {
    renameSync(tmp, dir);
  } catch {
    // Another run installed it meanwhile: theirs is as good.
    rmSync(tmp, { recursive: true, force: true });
  }
  return { ok: true, dir };
}

/** Puts the fixture's files and the cached node_modules into `dest` (a checkout). */
export function checkoutOf(fixture: string, cached: string, dest: string): void {
  cpSync(fixture, dest, { recursive: true });
  const link = Bun.spawnSync([
    "cp",
    "-al",
    join(cached, "node_modules"),
    join(dest, "node_modules"),
  ]);
  if (link.exitCode !== 0)
    cpSync(join(cached, "node_modules"), join(dest, "node_modules"), { recursive: true });
}

/** Prints why a test is skipped; true when it must be. */
export function skipped(what: string, i: Installed): i is { ok: false; why: string } {
  if (i.ok) return false;
  console.warn(`skipped: ${what} could not be installed from npm (${i.why})`);
  return true;
}

// --- internal ---

const READY = ".port-server-test-ready";

function cacheRoot(): string {
  return process.env.PORT_SERVER_TEST_CACHE || join(homedir(), ".cache", "port-server-test");
}
