// Builds the one standalone executable behind both commands: `portctl` is compiled from
// src/main.ts and `port-server` is a hard link to it (src/main.ts picks the role from the
// name it was started under). scripts/release.ts reuses these pieces for each platform.
//
//   bun scripts/build.ts [--target bun-<os>-<arch>] [--outdir DIR]
import { copyFileSync, linkSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

export const TARGETS = [
  "bun-linux-x64",
  "bun-linux-arm64",
  "bun-darwin-x64",
  "bun-darwin-arm64",
] as const;
export type Target = (typeof TARGETS)[number];

export interface BuildInfo {
  version: string;
  commit: string;
  date: string;
}

export interface Artefact {
  path: string;
  size: number;
  note?: string;
}

export const ROOT = resolve(import.meta.dir, "..");
export const CLI_NAME = "portctl";
export const SERVER_NAME = "port-server";

/**
 * Version metadata. The version is package.json's, the one number the git tag `vX.Y.Z` and the
 * npm packages also carry; the commit comes from git (`-dirty` when the tree has changes).
 * Outside a repository (or before the first commit) the commit falls back to `unknown`.
 */
export function buildInfo(cwd: string = ROOT, now: Date = new Date()): BuildInfo {
  const commit = git(["rev-parse", "--short", "HEAD"], cwd);
  const dirty = commit !== undefined && git(["status", "--porcelain"], cwd) !== undefined;
  return {
    version: packageVersion(cwd),
    commit: commit === undefined ? "unknown" : dirty ? `${commit}-dirty` : commit,
    date: `${now.toISOString().slice(0, 19)}Z`,
  };
}

/** package.json's `version` in `dir` (the repository root), or `dev` when there is none. */
export function packageVersion(dir: string = ROOT): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const version = (parsed as { version?: unknown }).version;
    return typeof version === "string" && SEMVER.test(version) ? version : "dev";
  } catch {
    return "dev";
  }
}

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** The target matching this machine, or an error on platforms we don't ship for. */
export function hostTarget(): Target {
  const arch = process.arch === "arm64" ? "arm64" : process.arch === "x64" ? "x64" : undefined;
  const os = process.platform === "linux" || process.platform === "darwin" ? process.platform : "";
  const target = `bun-${os}-${arch}`;
  if (!isTarget(target)) {
    throw new Error(`unsupported host platform ${process.platform}-${process.arch}`);
  }
  return target;
}

export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

/** Compiles src/main.ts into `outfile` for `target` (undefined: the running Bun's platform). */
export async function compile(outfile: string, info: BuildInfo, target?: Target): Promise<void> {
  rmSync(outfile, { force: true });
  try {
    await Bun.build({
      entrypoints: [join(ROOT, "src/main.ts")],
      minify: true,
      // Precompiled bytecode: the CLI starts in about a third of the time (bench/cli-latency).
      bytecode: true,
      format: "esm",
      // Each lazily imported module becomes its own chunk inside the executable, loaded only
      // when imported: `portctl check` no longer loads zod, yaml or the server (about 3 ms of a
      // cold start; bench/cli-latency).
      splitting: true,
      define: {
        PORT_SERVER_VERSION: JSON.stringify(info.version),
        PORT_SERVER_COMMIT: JSON.stringify(info.commit),
        PORT_SERVER_BUILD_DATE: JSON.stringify(info.date),
      },
      // The binaries must not pick up a user's .env or bunfig.toml from wherever they run.
      compile: {
        outfile,
        autoloadDotenv: false,
        autoloadBunfig: false,
        // Bun rejects `target: undefined`; leaving it out means "this machine".
        ...(target ? { target } : {}),
      },
    });
  } catch (error) {
    const reason = describeBuildError(error);
    // Cross-compiling downloads the target's Bun runtime (@oven/bun-<os>-<arch>) from the
    // npm registry once, into Bun's install cache.
    const hint = /download/i.test(reason) ? " (the npm registry must be reachable)" : "";
    throw new Error(`cannot build ${target ?? "host"}: ${reason}${hint}`);
  }
}

/** Makes `alias` a hard link to `file`; falls back to a copy where links are impossible. */
export function linkOrCopy(file: string, alias: string): "link" | "copy" {
  rmSync(alias, { force: true });
  try {
    linkSync(file, alias);
    return "link";
  } catch {
    copyFileSync(file, alias);
    return "copy";
  }
}

/** Builds `portctl` and `port-server` into `outdir` and returns what was written. */
export async function build(opts: {
  outdir: string;
  info: BuildInfo;
  target?: Target;
}): Promise<Artefact[]> {
  mkdirSync(opts.outdir, { recursive: true });
  const cli = join(opts.outdir, CLI_NAME);
  const server = join(opts.outdir, SERVER_NAME);
  // Remove the alias first: writing a new portctl through an old link would change both.
  rmSync(server, { force: true });
  await compile(cli, opts.info, opts.target);
  const how = linkOrCopy(cli, server);
  const note =
    how === "link" ? `hard link to ${CLI_NAME}` : `COPY of ${CLI_NAME} (hard link failed)`;
  return [
    { path: cli, size: statSync(cli).size },
    { path: server, size: statSync(server).size, note },
  ];
}

export function formatArtefact(artefact: Artefact): string {
  const mib = (artefact.size / 1024 / 1024).toFixed(1);
  const rel = relative(process.cwd(), artefact.path);
  const name = rel === "" || rel.startsWith("..") ? artefact.path : rel;
  const note = artefact.note ? `  (${artefact.note})` : "";
  return `${name.padEnd(32)} ${mib.padStart(7)} MiB${note}`;
}

export function parseTarget(value: string | undefined): Target | undefined {
  if (value === undefined || value === "host") return undefined;
  if (!isTarget(value)) {
    throw new Error(`unknown target ${value} (expected one of: ${TARGETS.join(", ")})`);
  }
  return value;
}

// --- internal ---

function git(args: string[], cwd: string): string | undefined {
  try {
    const result = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "ignore" });
    const out = result.stdout.toString().trim();
    return result.exitCode === 0 && out !== "" ? out : undefined;
  } catch {
    return undefined; // git itself is not installed
  }
}

function describeBuildError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((e) => String(e).replace(/^\w*Message: /, "")).join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { target: { type: "string" }, outdir: { type: "string" } },
    strict: true,
  });
  const artefacts = await build({
    outdir: resolve(values.outdir ?? join(ROOT, "bin")),
    info: buildInfo(),
    target: parseTarget(values.target),
  });
  for (const artefact of artefacts) console.log(formatArtefact(artefact));
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(Bun.argv.slice(2));
  } catch (error) {
    console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
