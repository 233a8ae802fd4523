// Cross-compiles port-server for every shipped platform and packs one archive per platform,
// plus SHA256SUMS and a Homebrew formula that points at the archives.
//
//   bun scripts/release.ts [--targets all|host|bun-linux-x64,bun-darwin-arm64,...] [--outdir DIR]
//
// Each dist/port-server-<version>-<os>-<arch>.tar.gz holds one folder of the same name with
// portctl, port-server (a hard link, kept as one in the archive), README.md, LICENSE and plugin/
// (the Claude Code plugin, scripts/plugin.ts).
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type BuildInfo,
  build,
  buildInfo,
  CLI_NAME,
  hostTarget,
  isTarget,
  ROOT,
  TARGETS,
  type Target,
} from "./build.ts";
import { renderFormula } from "./formula.ts";
import { packMain, packPlatform } from "./npm.ts";
import { writePluginFolder } from "./plugin.ts";
import { publishedReadme, REPOSITORY } from "./readme.ts";

export const EXTRA_FILES = ["README.md", "LICENSE"] as const;
export const DEFAULT_HOMEPAGE = REPOSITORY;

export interface Archive {
  target: Target;
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  file: string;
  sha256: string;
}

/** `all`, `host`, or a comma-separated list of targets. */
export function parseTargets(value: string): Target[] {
  if (value === "all") return [...TARGETS];
  const targets = value.split(",").map((t) => (t.trim() === "host" ? hostTarget() : t.trim()));
  for (const t of targets) {
    if (!isTarget(t))
      throw new Error(`unknown target ${t} (expected all, host or ${TARGETS.join(", ")})`);
  }
  return [...new Set(targets as Target[])];
}

/**
 * A release's tag must name package.json's version: `vX.Y.Z` everywhere, or the npm packages,
 * the archives and `portctl version` would disagree. No tag (a local `make release`) is fine.
 */
export function checkTag(tag: string | undefined, version: string): void {
  if (tag && tag !== `v${version}`) {
    throw new Error(
      `tag ${tag} does not match package.json's version ${version} (expected v${version})`,
    );
  }
}

/** Builds and packs one target into `outdir`, staging under `outdir/.stage`. */
export async function packTarget(
  target: Target,
  info: BuildInfo,
  outdir: string,
  withBinary?: (binary: string) => Promise<void>,
): Promise<Archive> {
  const [, os, arch] = target.split("-") as [string, Archive["os"], Archive["arch"]];
  const name = `port-server-${info.version}-${os}-${arch}`;
  const stage = join(outdir, ".stage");
  const folder = join(stage, name);
  rmSync(folder, { recursive: true, force: true });
  await build({ outdir: folder, info, target });
  copyFileSync(join(ROOT, "LICENSE"), join(folder, "LICENSE"));
  writeFileSync(join(folder, "README.md"), publishedReadme(info.version));
  writePluginFolder(folder, info.version);
  const file = join(outdir, `${name}.tar.gz`);
  await tar(file, stage, name);
  await withBinary?.(join(folder, CLI_NAME));
  rmSync(folder, { recursive: true, force: true });
  return { target, os, arch, file, sha256: await sha256(file) };
}

/** `<hex>  <file>` lines, the format `sha256sum -c` reads. */
export function renderChecksums(archives: Archive[]): string {
  return archives.map((a) => `${a.sha256}  ${basename(a.file)}\n`).join("");
}

export async function release(opts: {
  targets: Target[];
  outdir: string;
  info: BuildInfo;
  homepage: string;
}): Promise<Archive[]> {
  const missing = EXTRA_FILES.filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length > 0) throw new Error(`missing ${missing.join(", ")} in ${ROOT}`);
  mkdirSync(opts.outdir, { recursive: true });
  const archives: Archive[] = [];
  try {
    const version = opts.info.version;
    for (const target of opts.targets) {
      const archive = await packTarget(target, opts.info, opts.outdir, async (binary) => {
        console.log(basename(await packPlatform(target, binary, version, opts.outdir)));
      });
      console.log(`${basename(archive.file)}  ${archive.sha256}`);
      archives.push(archive);
    }
    console.log(basename(await packMain(opts.targets, version, opts.outdir)));
  } finally {
    rmSync(join(opts.outdir, ".stage"), { recursive: true, force: true });
  }
  writeFileSync(join(opts.outdir, "SHA256SUMS"), renderChecksums(archives));
  const formula = renderFormula({
    version: opts.info.version,
    // The git tag the archives are attached to: v + the version (checkTag holds a release to it).
    tag: `v${opts.info.version}`,
    homepage: opts.homepage,
    archives: archives.map((a) => ({ ...a, file: basename(a.file) })),
  });
  writeFileSync(join(opts.outdir, "port-server.rb"), formula);
  return archives;
}

// --- internal ---

async function tar(file: string, cwd: string, folder: string): Promise<void> {
  rmSync(file, { force: true });
  // The system tar keeps the portctl/port-server hard link as a link entry, so the binary
  // is stored once and extracts as one file with two names.
  const proc = Bun.spawn(["tar", "-czf", file, folder], { cwd, stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`tar failed for ${basename(file)}: ${stderr.trim()}`);
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of Bun.file(file).stream()) hash.update(chunk);
  return hash.digest("hex");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      targets: { type: "string", default: "all" },
      outdir: { type: "string", default: join(ROOT, "dist") },
    },
    strict: true,
  });
  const info = buildInfo();
  checkTag(
    process.env.GITHUB_REF_TYPE === "tag" ? process.env.GITHUB_REF_NAME : undefined,
    info.version,
  );
  await release({
    targets: parseTargets(values.targets),
    outdir: resolve(values.outdir),
    info,
    homepage: process.env.PORT_SERVER_HOMEPAGE || DEFAULT_HOMEPAGE,
  });
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(Bun.argv.slice(2));
  } catch (error) {
    console.error(`release: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
