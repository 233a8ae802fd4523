// The installer against real folders in a temp dir: local, global with some platforms absent,
// clean re-installs, and targets that cannot be written.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { SKILL_FILES } from "../../src/skill/files.ts";
import { installGlobal, installLocal, writeSkill } from "../../src/skill/install.ts";

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "port-server-skill-"));
});

afterEach(() => {
  restoreWritable(tmp);
  rmSync(tmp, { recursive: true, force: true });
});

describe("installLocal", () => {
  test("writes .claude/skills/port-manager with every embedded file", () => {
    const result = installLocal(tmp);
    const dir = join(tmp, ".claude/skills/port-manager");
    expect(result).toEqual({ platform: "Claude Code", dir, status: "installed" });
    expectExactSkill(dir);
    expect(statSync(join(dir, "SKILL.md")).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, "references")).mode & 0o777).toBe(0o755);
    expect(readdirSync(join(tmp, ".claude/skills"))).toEqual(["port-manager"]);
  });

  test("re-installing removes stale files and restores modified ones", () => {
    const dir = join(tmp, ".claude/skills/port-manager");
    mkdirSync(join(dir, "references"), { recursive: true });
    writeFileSync(join(dir, "SKILL.md"), "---\nname: port-manager\n---\nold version\n");
    writeFileSync(join(dir, "references/OLD.md"), "stale");
    writeFileSync(join(dir, "notes.txt"), "stale");

    expect(installLocal(tmp).status).toBe("installed");
    expectExactSkill(dir);
    expect(installLocal(tmp).status).toBe("installed");
    expectExactSkill(dir);
    expect(readdirSync(join(tmp, ".claude/skills"))).toEqual(["port-manager"]);
  });

  test("clears temp folders a crashed install left behind", () => {
    const skills = join(tmp, ".claude/skills");
    // PID 2^30 is above every kernel's pid_max, so no live process owns this leftover.
    const leftover = join(skills, `.port-manager.${2 ** 30}.abc123.new`);
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, "SKILL.md"), "half");

    expect(installLocal(tmp).status).toBe("installed");
    expect(readdirSync(skills)).toEqual(["port-manager"]);
  });
});

describe("writeSkill", () => {
  test("a failure midway keeps the previous copy and leaves nothing half-written", () => {
    const dir = join(tmp, "skills/port-manager");
    writeSkill(dir, [{ path: "SKILL.md", content: "v1" }]);
    // "a" is written as a file, so "a/b" cannot be created under it.
    const broken = [
      { path: "SKILL.md", content: "v2" },
      { path: "a", content: "file" },
      { path: "a/b", content: "fails" },
    ];
    expect(() => writeSkill(dir, broken)).toThrow();
    expect(listFiles(dir)).toEqual(["SKILL.md"]);
    expect(readFileSync(join(dir, "SKILL.md"), "utf8")).toBe("v1");
    expect(readdirSync(join(tmp, "skills"))).toEqual(["port-manager"]);
  });
});

describe("installGlobal", () => {
  test("installs where the platform folder exists and skips the others untouched", () => {
    mkdirSync(join(tmp, ".claude"));
    mkdirSync(join(tmp, ".agents"));

    const results = installGlobal(tmp);

    expect(results.map((r) => [r.platform, r.status])).toEqual([
      ["Claude Code", "installed"],
      ["OpenAI Codex", "skipped"],
      ["Generic Agents", "installed"],
    ]);
    const codex = results[1];
    expect(codex?.dir).toBe(join(tmp, ".codex/skills/port-manager"));
    expect(codex?.reason).toContain(join(tmp, ".codex"));
    expect(existsSync(join(tmp, ".codex"))).toBe(false);
    expectExactSkill(join(tmp, ".claude/skills/port-manager"));
    expectExactSkill(join(tmp, ".agents/skills/port-manager"));
  });

  test("skips everything when no platform folder exists", () => {
    const results = installGlobal(tmp);
    expect(results.map((r) => r.status)).toEqual(["skipped", "skipped", "skipped"]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("an unwritable target fails with one line while the others install", () => {
    for (const folder of [".claude", ".codex", ".agents"]) mkdirSync(join(tmp, folder));
    // A file where the skills folder should be defeats root as well as ordinary users.
    writeFileSync(join(tmp, ".codex/skills"), "not a folder");

    const results = installGlobal(tmp);

    expect(results.map((r) => r.status)).toEqual(["installed", "failed", "installed"]);
    const error = results[1]?.error ?? "";
    expect(error).toStartWith(`cannot write ${join(tmp, ".codex/skills/port-manager")}: `);
    expect(error).not.toContain("\n");
    expect(readFileSync(join(tmp, ".codex/skills"), "utf8")).toBe("not a folder");
    expectExactSkill(join(tmp, ".claude/skills/port-manager"));
    expectExactSkill(join(tmp, ".agents/skills/port-manager"));
  });

  test.skipIf(process.getuid?.() === 0)(
    "a read-only skills folder reports permission denied",
    () => {
      for (const folder of [".claude", ".codex"])
        mkdirSync(join(tmp, folder, "skills"), { recursive: true });
      chmodSync(join(tmp, ".codex/skills"), 0o555);

      const results = installGlobal(tmp);

      expect(results.map((r) => r.status)).toEqual(["installed", "failed", "skipped"]);
      expect(results[1]?.error).toBe(
        `cannot write ${join(tmp, ".codex/skills/port-manager")}: permission denied`,
      );
      expect(readdirSync(join(tmp, ".codex/skills"))).toEqual([]);
    },
  );
});

// --- internal ---

/** The folder holds exactly the embedded files, with their exact content. */
function expectExactSkill(dir: string): void {
  expect(listFiles(dir)).toEqual(SKILL_FILES.map((f) => f.path).sort());
  for (const file of SKILL_FILES) {
    expect(readFileSync(join(dir, file.path), "utf8")).toBe(file.content);
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Undo chmod 0555 so the temp dir can be removed. */
function restoreWritable(root: string): void {
  const skills = join(root, ".codex/skills");
  if (existsSync(skills) && statSync(skills).isDirectory()) chmodSync(skills, 0o755);
}
