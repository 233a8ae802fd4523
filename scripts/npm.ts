// The npm packages, in the pattern native-binary CLIs use on npm: one package per platform
// (`@port-server/linux-x64`, …) carrying the compiled binary, with `os`/`cpu` so npm installs
// only the matching one, and a main package `port-server` that lists them all as
// optionalDependencies. Its postinstall (scripts/npm/install.cjs) hard-links the binary over
// the launchers in bin/, so the installed `portctl` is the native binary itself.
//
//   bun scripts/npm.ts [--bindir DIR] [--outdir DIR]   (the host platform; make release packs all)
//
// --bindir takes an already built host binary (DIR/portctl) instead of compiling again.
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, buildInfo, CLI_NAME, hostTarget, ROOT, SERVER_NAME, type Target } from "./build.ts";
import { PLUGIN_FOLDER, writePluginFolder } from "./plugin.ts";
import { publishedReadme } from "./readme.ts";

export const SCOPE = "@port-server";
export const MAIN_PACKAGE = "port-server";
const NPM_SOURCES = join(ROOT, "scripts", "npm");
const DESCRIPTION =
  "A local port registry that ends port conflicts between Docker Compose stacks, dev servers and AI coding agents";

/** `bun-linux-x64` → `linux-x64`, and its package `@port-server/linux-x64`. */
export function platformOf(target: Target): { os: string; cpu: string; key: string; name: string } {
  const [, os = "", cpu = ""] = target.split("-");
  return { os, cpu, key: `${os}-${cpu}`, name: `${SCOPE}/${os}-${cpu}` };
}

export function platformManifest(target: Target, version: string): Record<string, unknown> {
  const { os, cpu, key, name } = platformOf(target);
  return {
    name,
    version,
    description: `The ${key} binary of port-server (installed by the port-server package)`,
    license: "MIT",
    os: [os],
    cpu: [cpu],
    files: ["bin/"],
    preferUnplugged: true,
  };
}

export function mainManifest(version: string, targets: readonly Target[]): Record<string, unknown> {
  const optional = Object.fromEntries(targets.map((t) => [platformOf(t).name, version]));
  return {
    name: MAIN_PACKAGE,
    version,
    description: DESCRIPTION,
    license: "MIT",
    keywords: ["port", "registry", "docker-compose", "dev-server", "mcp", "agents"],
    bin: { [CLI_NAME]: `bin/${CLI_NAME}`, [SERVER_NAME]: `bin/${SERVER_NAME}` },
    scripts: { postinstall: "node install.cjs" },
    optionalDependencies: optional,
    engines: { node: ">=18" },
    files: ["bin/", `${PLUGIN_FOLDER}/`, "install.cjs", "native.cjs"],
  };
}

/** Stages the platform package for `target` in `dir` from a built `binary`. */
export function stagePlatform(dir: string, target: Target, binary: string, version: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeJson(join(dir, "package.json"), platformManifest(target, version));
  // One file: the main package links it under both names (a second copy would double the size).
  copyFileSync(binary, join(dir, "bin", CLI_NAME));
  chmodSync(join(dir, "bin", CLI_NAME), 0o755);
  copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
  const key = platformOf(target).key;
  writeFileSync(
    join(dir, "README.md"),
    `# ${platformOf(target).name}\n\nThe ${key} binary of port-server. Install \`port-server\`, not this package: \`npm install -g port-server\`.\n`,
  );
}

/** Stages the main package in `dir`: launchers, install script, README, LICENSE and the plugin. */
export function stageMain(dir: string, targets: readonly Target[], version: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeJson(join(dir, "package.json"), mainManifest(version, targets));
  for (const name of [CLI_NAME, SERVER_NAME]) {
    copyFileSync(join(NPM_SOURCES, "launcher.cjs"), join(dir, "bin", name));
    chmodSync(join(dir, "bin", name), 0o755);
  }
  for (const file of ["install.cjs", "native.cjs"])
    copyFileSync(join(NPM_SOURCES, file), join(dir, file));
  copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
  writeFileSync(join(dir, "README.md"), publishedReadme(version));
  writePluginFolder(dir, version);
}

/** `npm pack` of a staged folder into `outdir`; returns the tarball's path. */
export async function npmPack(dir: string, outdir: string): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  const proc = Bun.spawn(["npm", "pack", "--json", "--pack-destination", outdir], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" },
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`npm pack failed in ${dir}: ${err.trim()}`);
  const [entry] = JSON.parse(out) as { filename: string }[];
  if (!entry) throw new Error(`npm pack wrote nothing in ${dir}`);
  return join(outdir, entry.filename);
}

/** Stages and packs the platform package of `target` from its built `binary`. */
export async function packPlatform(
  target: Target,
  binary: string,
  version: string,
  outdir: string,
): Promise<string> {
  const dir = join(outdir, ".npm-stage", platformOf(target).key);
  try {
    stagePlatform(dir, target, binary, version);
    return await npmPack(dir, outdir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stages and packs the main package, depending on the platform packages of `targets`. */
export async function packMain(
  targets: readonly Target[],
  version: string,
  outdir: string,
): Promise<string> {
  const dir = join(outdir, ".npm-stage", MAIN_PACKAGE);
  try {
    stageMain(dir, targets, version);
    return await npmPack(dir, outdir);
  } finally {
    rmSync(join(outdir, ".npm-stage"), { recursive: true, force: true });
  }
}

/**
 * `npm install -g` of local tarballs into `prefix` with no registry (`--offline`, its own
 * cache): how a user's global install lays the packages out, for the tests and the bench.
 * Throws with npm's stderr when it fails.
 */
export function installOffline(opts: {
  prefix: string;
  cache: string;
  tarballs: string[];
  flags?: string[];
}): void {
  mkdirSync(opts.prefix, { recursive: true });
  const cmd = ["npm", "install", "-g", "--prefix", opts.prefix, "--offline", "--cache", opts.cache];
  const res = Bun.spawnSync([...cmd, ...(opts.flags ?? []), ...opts.tarballs], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (res.exitCode !== 0) throw new Error(`npm install failed: ${res.stderr.toString().trim()}`);
}

// --- internal ---

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { bindir: { type: "string" }, outdir: { type: "string" } },
    strict: true,
  });
  const outdir = resolve(values.outdir ?? join(ROOT, "dist"));
  const info = buildInfo();
  const target = hostTarget();
  let bindir = values.bindir ? resolve(values.bindir) : undefined;
  if (!bindir) {
    bindir = join(outdir, ".npm-build");
    await build({ outdir: bindir, info, target });
  }
  const tarballs = [
    await packPlatform(target, join(bindir, CLI_NAME), info.version, outdir),
    await packMain([target], info.version, outdir),
  ];
  if (!values.bindir) rmSync(bindir, { recursive: true, force: true });
  for (const file of tarballs) console.log(file);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(Bun.argv.slice(2));
  } catch (error) {
    console.error(`npm: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
