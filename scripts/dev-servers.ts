// The real dev servers the tests start (test/fixtures/dev-servers/<kind>/, pinned versions),
// installed once into a cache outside the repository: $XDG_CACHE_HOME/port-server-test (else
// ~/.cache/port-server-test)/dev-servers/<kind>-<hash of its package.json>. Later runs find
// them there and need no network; npm's own cache sits beside them.
//
//   bun scripts/dev-servers.ts [KIND...]   install the given kinds (default: all), 3 at a time
//
// Exit 0 when every kind is installed; outside CI a kind that cannot be installed (no
// network) is a warning, and its tests skip with one line. Under CI=true it is an error.
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dir, "../test/fixtures/dev-servers");

/** Every kind there is a fixture for. */
export function devServerKinds(): string[] {
  return readdirSync(FIXTURES).filter((k) => existsSync(join(FIXTURES, k, "package.json")));
}

export function cacheRoot(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "port-server-test");
}

/** Where a kind's node_modules lives once installed (the hash follows its pinned versions). */
export function installDir(kind: string): string {
  const manifest = readFileSync(join(FIXTURES, kind, "package.json"));
  const hash = createHash("sha256").update(manifest).digest("hex").slice(0, 10);
  return join(cacheRoot(), "dev-servers", `${kind}-${hash}`);
}

export type Installed = { ok: true; dir: string } | { ok: false; why: string };

const pending = new Map<string, Promise<Installed>>();

/**
 * Installs `kind` unless it is already there. Concurrent callers (several test files) each
 * install into a folder of their own and rename it into place; the first rename wins.
 */
export function installDevServer(kind: string): Promise<Installed> {
  let p = pending.get(kind);
  if (!p) {
    p = install(kind);
    pending.set(kind, p);
  }
  return p;
}

// --- internal ---

async function install(kind: string): Promise<Installed> {
  const dir = installDir(kind);
  if (existsSync(join(dir, ".installed"))) return { ok: true, dir };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) {
    const src = join(FIXTURES, kind, file);
    if (existsSync(src)) cpSync(src, join(tmp, file));
  }
  const proc = Bun.spawn(
    ["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
    {
      cwd: tmp,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? homedir(),
        npm_config_cache: join(cacheRoot(), "npm"),
        npm_config_update_notifier: "false",
        // Some packages phone home from their install scripts; none is needed here.
        NEXT_TELEMETRY_DISABLED: "1",
        NUXT_TELEMETRY_DISABLED: "1",
        STORYBOOK_DISABLE_TELEMETRY: "1",
      },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill("SIGKILL"), 600_000);
  const err = await new Response(proc.stderr).text();
  clearTimeout(timer);
  if ((await proc.exited) !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const line =
      err
        .trim()
        .split("\n")
        .find((l) => /err/i.test(l)) ?? err.trim().split("\n")[0];
    return { ok: false, why: `npm install failed: ${line ?? `exit ${proc.exitCode}`}` };
  }
  writeFileSync(join(tmp, ".installed"), `${new Date().toISOString()}\n`);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process's install won
  }
  return existsSync(join(dir, ".installed")) ? { ok: true, dir } : { ok: false, why: "lost" };
}

if (import.meta.main) {
  const kinds = process.argv.length > 2 ? process.argv.slice(2) : devServerKinds();
  const unknown = kinds.filter((k) => !devServerKinds().includes(k));
  if (unknown.length) {
    console.error(`error: no dev server fixture named ${unknown.join(", ")}`);
    process.exit(1);
  }
  const started = Date.now();
  const failed: string[] = [];
  const queue = [...kinds];
  const worker = async () => {
    for (let kind = queue.shift(); kind; kind = queue.shift()) {
      const r = await installDevServer(kind);
      if (!r.ok) failed.push(`${kind}: ${r.why}`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (failed.length === 0) {
    console.log(`dev servers ready in ${cacheRoot()}/dev-servers (${kinds.length}, ${secs} s)`);
  } else {
    const ci = process.env.CI === "true" || process.env.CI === "1";
    for (const f of failed) console.error(`${ci ? "error" : "warning"}: dev server ${f}`);
    if (ci) process.exit(1);
  }
}
