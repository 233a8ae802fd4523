// The npm packages (scripts/npm.ts) installed offline from their `npm pack` tarballs into an
// empty prefix, the way a user's `npm install -g port-server` lays them out: the installed
// `portctl` must be the native binary itself, with no Node process in front of it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostTarget } from "../../scripts/build.ts";
import { installOffline, mainManifest, platformManifest, platformOf } from "../../scripts/npm.ts";
import { pluginFiles } from "../../src/skill/plugin.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { hostBin, hostHome, runHost } from "../helpers/hosts.ts";

const ROOT = join(import.meta.dir, "../..");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const PLATFORM = platformOf(hostTarget());

let dir = "";
let platformTgz = "";
let mainTgz = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "port-server-npm-"));
  const bindir = await builtBinaries();
  const out = run(
    [process.execPath, "scripts/npm.ts", "--bindir", bindir, "--outdir", join(dir, "dist")],
    ROOT,
  );
  expect(out.stderr).toBe("");
  [platformTgz = "", mainTgz = ""] = out.stdout.trim().split("\n");
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm packages", () => {
  test("one tarball per platform and the main package, named and versioned as package.json", () => {
    expect(platformTgz).toBe(join(dir, "dist", `port-server-${PLATFORM.key}-${VERSION}.tgz`));
    expect(mainTgz).toBe(join(dir, "dist", `port-server-${VERSION}.tgz`));
    // The main package carries launchers only; the binary lives in the platform package.
    expect(statSync(mainTgz).size).toBeLessThan(200_000);
    expect(statSync(platformTgz).size).toBeGreaterThan(10_000_000);
  });

  test("platform packages declare os/cpu; the main package pins them as optionalDependencies", () => {
    const target = hostTarget();
    expect(platformManifest(target, "1.2.3")).toMatchObject({
      name: PLATFORM.name,
      version: "1.2.3",
      os: [PLATFORM.os],
      cpu: [PLATFORM.cpu],
    });
    const main = mainManifest("1.2.3", ["bun-linux-x64", "bun-darwin-arm64"]);
    expect(main.optionalDependencies).toEqual({
      "@port-server/linux-x64": "1.2.3",
      "@port-server/darwin-arm64": "1.2.3",
    });
    expect(main.bin).toEqual({ portctl: "bin/portctl", "port-server": "bin/port-server" });
  });

  test("installed offline, portctl is the native binary and runs the daemon", () => {
    const prefix = npmInstall("scripts", []);
    const cli = join(prefix, "bin", "portctl");
    expect(isNative(cli)).toBe(true);
    expect(isNative(join(prefix, "bin", "port-server"))).toBe(true);
    const env = sandboxEnv(prefix);
    const version = run([cli, "version"], prefix, env);
    expect(version.stdout).toStartWith(`portctl ${VERSION} (commit `);
    try {
      const start = run([cli, "start"], prefix, env);
      expect(start.exitCode).toBe(0);
      expect(run([cli, "health"], prefix, env).stdout).toContain(`version ${VERSION}`);
    } finally {
      expect(run([cli, "stop"], prefix, env).exitCode).toBe(0);
    }
  }, 60_000);

  test("the installed package carries the Claude Code plugin, which Claude Code validates", async () => {
    const prefix = npmInstall("plugin", ["--ignore-scripts"]);
    const plugin = join(prefix, "lib/node_modules/port-server/plugin");
    for (const f of pluginFiles(VERSION))
      expect(readFileSync(join(plugin, f.path), "utf8")).toBe(f.content);
    const claude = hostBin("claude");
    if (!claude) return;
    const h = hostHome();
    try {
      const r = await runHost([claude, "plugin", "validate", plugin, "--profile", "directory"], {
        cwd: h.root,
        env: h.env,
      });
      expect(r.stdout).toContain("✔ Validation passed");
      expect(r.stdout).toContain("skills: port-server:port-manager");
      expect(r.code).toBe(0);
    } finally {
      h.cleanup();
    }
  }, 120_000);

  test("with install scripts skipped, the first call runs through Node and puts the binary in place", () => {
    const prefix = npmInstall("no-scripts", ["--ignore-scripts"]);
    const cli = join(prefix, "bin", "portctl");
    expect(isNative(cli)).toBe(false);
    const first = run([cli, "version"], prefix, sandboxEnv(prefix));
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toStartWith(`portctl ${VERSION} `);
    expect(isNative(cli)).toBe(true);
    expect(isNative(join(prefix, "bin", "port-server"))).toBe(true);
  }, 60_000);

  test("without its platform package, portctl says what to reinstall in one line, exit 1", () => {
    const prefix = npmInstall("main-only", ["--ignore-scripts"], [mainTgz]);
    const res = run([join(prefix, "bin", "portctl"), "version"], prefix, sandboxEnv(prefix));
    expect(res.exitCode).toBe(1);
    expect(res.stderr.trim()).toBe(
      `portctl: ${PLATFORM.name} is not installed; reinstall without omitting optional dependencies: npm install -g port-server`,
    );
  }, 60_000);
});

// --- internal ---

function npmInstall(name: string, flags: string[], tarballs = [platformTgz, mainTgz]): string {
  const prefix = join(dir, name);
  installOffline({ prefix, cache: join(dir, `cache-${name}`), tarballs, flags });
  return prefix;
}

/** The file behind the bin link is an executable image, not a `#!` script. */
function isNative(bin: string): boolean {
  const head = readFileSync(realpathSync(bin)).subarray(0, 4);
  return (
    head[0] !== 0x23 &&
    (head.toString("latin1") === "\x7fELF" || head.readUInt32LE(0) === 0xfeedfacf)
  );
}

function sandboxEnv(prefix: string): Record<string, string> {
  const home = join(prefix, "home");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return {
    PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}`,
    HOME: home,
    PORT_SERVER_HOME: join(home, ".port_server"),
    PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
    NO_COLOR: "1",
  };
}

function run(cmd: string[], cwd: string, env: Record<string, string | undefined> = process.env) {
  const res = Bun.spawnSync(cmd, { cwd, env, stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  return { exitCode: res.exitCode, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
}
