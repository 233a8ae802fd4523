// scripts/build.ts: one compile into a temp outdir, then checks on what it wrote. The two
// command names must be one file (a hard link), and the binary must carry the build metadata.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildInfo, linkOrCopy, packageVersion, parseTarget } from "../../scripts/build.ts";

const ROOT = join(import.meta.dir, "../..");
const BUILD_DATE = /built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

describe("scripts/build.ts", () => {
  let dir = "";
  let outdir = "";
  let run: { exitCode: number; stdout: string; stderr: string };

  beforeAll(
    () => {
      dir = mkdtempSync(join(tmpdir(), "port-server-build-"));
      outdir = join(dir, "bin");
      run = spawn([join(ROOT, "scripts/build.ts"), "--outdir", outdir], ROOT);
    },
    { timeout: 120_000 },
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("succeeds and prints one line with a size per artefact", () => {
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/portctl\s+\d+\.\d MiB$/);
    expect(lines[1]).toMatch(/port-server\s+\d+\.\d MiB {2}\(hard link to portctl\)$/);
  });

  test("port-server and portctl are one executable file under two names", () => {
    const cli = statSync(join(outdir, "portctl"));
    const server = statSync(join(outdir, "port-server"));
    expect(server.ino).toBe(cli.ino);
    expect(server.dev).toBe(cli.dev);
    expect(cli.nlink).toBe(2);
    expect(cli.mode & 0o111).toBe(0o111);
  });

  test("each name starts its own role and reports the injected build date", () => {
    const env = { ...process.env, HOME: dir, PORT_SERVER_HOME: join(dir, "state") };
    const server = spawnBinary([join(outdir, "port-server"), "--version"], env);
    expect(server.exitCode).toBe(0);
    expect(server.stdout).toMatch(/^port-server /);
    expect(server.stdout).toMatch(BUILD_DATE);
    const cli = spawnBinary([join(outdir, "portctl"), "version"], env);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toMatch(/^portctl /);
    expect(cli.stdout).toMatch(BUILD_DATE);
  });
});

describe("build helpers", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "port-server-build-unit-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("outside a git repository the version and commit fall back", () => {
    const info = buildInfo(dir, new Date("2026-03-04T05:06:07.890Z"));
    expect(info).toEqual({ version: "dev", commit: "unknown", date: "2026-03-04T05:06:07Z" });
  });

  test("the version is package.json's, the commit git's, with -dirty for a changed tree", () => {
    const repo = join(dir, "repo");
    mkdirSync(repo);
    writeFileSync(join(repo, "package.json"), JSON.stringify({ version: "3.4.5" }));
    const git = (...args: string[]) =>
      Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "one");
    const hash = git("rev-parse", "--short", "HEAD").stdout.toString().trim();
    expect(buildInfo(repo).version).toBe("3.4.5");
    expect(buildInfo(repo).commit).toBe(hash);
    writeFileSync(join(repo, "package.json"), JSON.stringify({ version: "3.4.6" }));
    expect(buildInfo(repo)).toMatchObject({ version: "3.4.6", commit: `${hash}-dirty` });
    writeFileSync(join(repo, "package.json"), JSON.stringify({ version: "not a version" }));
    expect(buildInfo(repo).version).toBe("dev");
  });

  test("the repository's own version is one number: package.json's", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8"));
    expect(packageVersion()).toBe(pkg.version);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("linkOrCopy replaces an unrelated file with a link and leaves the original alone", () => {
    const file = join(dir, "portctl");
    const alias = join(dir, "port-server");
    writeFileSync(file, "new binary");
    writeFileSync(alias, "stale binary");
    expect(linkOrCopy(file, alias)).toBe("link");
    expect(statSync(alias).ino).toBe(statSync(file).ino);
    expect(readFileSync(file, "utf8")).toBe("new binary");
  });

  test("targets are checked against the shipped list", () => {
    expect(parseTarget(undefined)).toBeUndefined();
    expect(parseTarget("host")).toBeUndefined();
    expect(parseTarget("bun-darwin-arm64")).toBe("bun-darwin-arm64");
    expect(() => parseTarget("bun-windows-x64")).toThrow(/unknown target bun-windows-x64/);
  });
});

// --- internal ---

function spawn(args: string[], cwd: string) {
  const result = Bun.spawnSync([process.execPath, ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    exitCode: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

function spawnBinary(cmd: string[], env: Record<string, string | undefined>) {
  const result = Bun.spawnSync(cmd, { env, stdout: "pipe", stderr: "pipe", timeout: 10_000 });
  return { exitCode: result.exitCode, stdout: result.stdout.toString() };
}
