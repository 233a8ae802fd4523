// scripts/release.ts for the host target only (cross-compiling would download other
// platforms' runtimes): the archive's contents, its checksum, and the formula that uses it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderFormula } from "../../scripts/formula.ts";
import { publishedReadme } from "../../scripts/readme.ts";
import { checkTag } from "../../scripts/release.ts";
import { pluginFiles } from "../../src/skill/plugin.ts";
import { hostBin, hostHome, runHost } from "../helpers/hosts.ts";

const ROOT = join(import.meta.dir, "../..");
const OS = process.platform === "darwin" ? "darwin" : "linux";
const ARCH = process.arch === "arm64" ? "arm64" : "x64";
const ARCHIVE = new RegExp(`^port-server-(.+)-${OS}-${ARCH}\\.tar\\.gz$`);

describe("scripts/release.ts --targets host", () => {
  let dir = "";
  let outdir = "";
  let run: { exitCode: number; stdout: string; stderr: string };
  let archive = "";
  let folder = "";

  beforeAll(
    () => {
      dir = mkdtempSync(join(tmpdir(), "port-server-release-"));
      outdir = join(dir, "dist");
      run = spawn([join(ROOT, "scripts/release.ts"), "--targets", "host", "--outdir", outdir]);
      archive = listDir(outdir).find((f) => ARCHIVE.test(f)) ?? "";
      folder = archive.replace(/\.tar\.gz$/, "");
    },
    { timeout: 180_000 },
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("writes exactly the host archive, SHA256SUMS, the formula and the npm tarballs", () => {
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(archive).not.toBe("");
    const version = archive.replace(ARCHIVE, "$1");
    const npm = [`port-server-${OS}-${ARCH}-${version}.tgz`, `port-server-${version}.tgz`];
    expect(listDir(outdir).sort()).toEqual(
      [archive, "SHA256SUMS", "port-server.rb", ...npm].sort(),
    );
  });

  test("the archives carry package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(archive).toBe(`port-server-${pkg.version}-${OS}-${ARCH}.tar.gz`);
  });

  test("the archive holds one folder with both binaries, README.md, LICENSE and the plugin", () => {
    const listing = tar(["-tzf", join(outdir, archive)])
      .trim()
      .split("\n");
    const names = listing.map((entry) => entry.replace(/\/$/, "")).sort();
    const plugin = new Set<string>();
    for (const f of pluginFiles()) {
      const parts = `plugin/${f.path}`.split("/");
      for (let i = 1; i <= parts.length; i++) plugin.add(`/${parts.slice(0, i).join("/")}`);
    }
    const expected = ["", "/LICENSE", "/README.md", "/port-server", "/portctl", ...plugin];
    expect(names).toEqual(expected.map((name) => `${folder}${name}`).sort());
  });

  test("its plugin/ is the one skill install --plugin writes, with the release's version, and Claude Code validates it", async () => {
    const into = join(dir, "plugin");
    mkdirSync(into);
    tar(["-xzf", join(outdir, archive), "-C", into]);
    const plugin = join(into, folder, "plugin");
    const version = archive.replace(ARCHIVE, "$1");
    for (const f of pluginFiles(version))
      expect(readFileSync(join(plugin, f.path), "utf8")).toBe(f.content);
    const manifest = JSON.parse(readFileSync(join(plugin, ".claude-plugin/plugin.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "port-server", version });
    const claude = hostBin("claude");
    if (!claude) return;
    const h = hostHome();
    try {
      const r = await runHost([claude, "plugin", "validate", plugin, "--profile", "directory"], {
        cwd: h.root,
        env: h.env,
      });
      expect(r.stdout).toContain("✔ Validation passed");
      expect(r.code).toBe(0);
    } finally {
      h.cleanup();
    }
  }, 120_000);

  test("the two binaries extract as one executable file under two names", () => {
    const into = join(dir, "extract");
    mkdirSync(into);
    tar(["-xzf", join(outdir, archive), "-C", into]);
    const cli = statSync(join(into, folder, "portctl"));
    const server = statSync(join(into, folder, "port-server"));
    expect(server.ino).toBe(cli.ino);
    expect(cli.mode & 0o111).toBe(0o111);
    expect(readFileSync(join(into, folder, "LICENSE"), "utf8")).toContain("MIT License");
  });

  test("the archive's README links each reference page at the release's tag, none relative", () => {
    const into = join(dir, "readme");
    mkdirSync(into);
    tar(["-xzf", join(outdir, archive), "-C", into]);
    const readme = readFileSync(join(into, folder, "README.md"), "utf8");
    const version = archive.replace(ARCHIVE, "$1");
    expect(readme).toBe(publishedReadme(version));
    expect(readme).toContain(`/blob/v${version}/docs/cli.md)`);
  });

  test("SHA256SUMS holds the archive's real checksum in sha256sum format", () => {
    const sums = readFileSync(join(outdir, "SHA256SUMS"), "utf8");
    expect(sums).toBe(`${sha256(join(outdir, archive))}  ${archive}\n`);
  });

  test("the formula points at the archive with that checksum", () => {
    const formula = readFileSync(join(outdir, "port-server.rb"), "utf8");
    const sum = sha256(join(outdir, archive));
    expect(formula).toContain("class PortServer < Formula");
    expect(formula).toContain(`sha256 "${sum}"`);
    expect(formula).toMatch(new RegExp(`url "https://\\S+/releases/download/\\S+/${archive}"`));
    // The archives hang under the git tag, v + package.json's version.
    const version = archive.replace(ARCHIVE, "$1");
    expect(formula).toContain(`/releases/download/v${version}/${archive}"`);
    expect(formula).toContain(OS === "darwin" ? "on_macos do" : "on_linux do");
    expect(formula).not.toContain(OS === "darwin" ? "on_linux do" : "on_macos do");
    expect(formula).toContain(ARCH === "arm64" ? "on_arm do" : "on_intel do");
    expect(formula).toContain('bin.install "portctl"');
    expect(formula).toContain('bin.install "port-server"');
  });
});

describe("renderFormula", () => {
  const archive = (os: "linux" | "darwin", arch: "x64" | "arm64", sha: string) => ({
    os,
    arch,
    file: `port-server-1.2.0-${os}-${arch}.tar.gz`,
    sha256: sha.repeat(64),
  });

  test("gives every platform its own url and checksum under the tag", () => {
    const formula = renderFormula({
      version: "1.2.0",
      tag: "v1.2.0",
      homepage: "https://example.test/port-server/",
      archives: [
        archive("darwin", "arm64", "a"),
        archive("darwin", "x64", "b"),
        archive("linux", "arm64", "c"),
        archive("linux", "x64", "d"),
      ],
    });
    expect(formula).toContain('version "1.2.0"');
    expect(formula).toContain('homepage "https://example.test/port-server/"');
    const blocks = [...formula.matchAll(/(on_arm|on_intel) do\s+url "(\S+)"\s+sha256 "(\w+)"/g)];
    expect(blocks.map((m) => [m[1], m[2], m[3]?.[0]])).toEqual([
      ["on_arm", url("darwin-arm64"), "a"],
      ["on_intel", url("darwin-x64"), "b"],
      ["on_arm", url("linux-arm64"), "c"],
      ["on_intel", url("linux-x64"), "d"],
    ]);
    expect(formula.indexOf("on_macos do")).toBeLessThan(formula.indexOf("on_linux do"));
    expect(formula).toContain('shell_output("#{bin}/portctl version")');
  });

  test("leaves out platforms that were not built", () => {
    const formula = renderFormula({
      version: "1.2.0",
      tag: "v1.2.0",
      homepage: "https://example.test/port-server",
      archives: [archive("linux", "x64", "d")],
    });
    expect(formula).not.toContain("on_macos");
    expect(formula).not.toContain("on_arm");
    expect(formula).toContain("on_linux do");
  });
});

// --- internal ---

function url(platform: string): string {
  return `https://example.test/port-server/releases/download/v1.2.0/port-server-1.2.0-${platform}.tar.gz`;
}

function spawn(args: string[]) {
  const result = Bun.spawnSync([process.execPath, ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    exitCode: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path) : [];
}

function tar(args: string[]): string {
  const result = Bun.spawnSync(["tar", ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`tar ${args[0]}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

describe("checkTag", () => {
  test("a tag must name package.json's version; no tag is a local release", () => {
    expect(() => checkTag("v0.2.0", "0.2.0")).not.toThrow();
    expect(() => checkTag(undefined, "0.2.0")).not.toThrow();
    expect(() => checkTag("v0.3.0", "0.2.0")).toThrow(
      "tag v0.3.0 does not match package.json's version 0.2.0 (expected v0.2.0)",
    );
  });
});
