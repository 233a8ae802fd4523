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
import { readOnly } from "../helpers/immutable.ts";

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "port-server-skill-"));
});

afterEach(() => {
  restoreWritable(tmp);
  rmSync(tmp, { recursive: true, force: true });
});

describe("installLocal", () => {
  test("writes .agents/skills and .claude/skills/port-manager, the same bytes in each", () => {
    const results = installLocal(tmp);
    const agents = join(tmp, ".agents/skills/port-manager");
    const claude = join(tmp, ".claude/skills/port-manager");
    expect(results).toEqual([
      {
        hosts: ["Codex", "Gemini CLI", "Cursor", "Goose", "OpenCode", "GitHub Copilot"],
        dir: agents,
        status: "installed",
      },
      { hosts: ["Claude Code"], dir: claude, status: "installed" },
    ]);
    for (const dir of [agents, claude]) {
      expectExactSkill(dir);
      expect(statSync(join(dir, "SKILL.md")).mode & 0o777).toBe(0o644);
      expect(statSync(join(dir, "references")).mode & 0o777).toBe(0o755);
    }
    expect(readdirSync(join(tmp, ".claude/skills"))).toEqual(["port-manager"]);
    expect(readdirSync(join(tmp, ".agents/skills"))).toEqual(["port-manager"]);
  });

  test("re-installing removes stale files and restores modified ones", () => {
    const dir = join(tmp, ".claude/skills/port-manager");
    mkdirSync(join(dir, "references"), { recursive: true });
    writeFileSync(join(dir, "SKILL.md"), "---\nname: port-manager\n---\nold version\n");
    writeFileSync(join(dir, "references/OLD.md"), "stale");
    writeFileSync(join(dir, "notes.txt"), "stale");

    expect(installLocal(tmp).map((r) => r.status)).toEqual(["installed", "installed"]);
    expectExactSkill(dir);
    expect(installLocal(tmp).map((r) => r.status)).toEqual(["installed", "installed"]);
    expectExactSkill(dir);
    expect(readdirSync(join(tmp, ".claude/skills"))).toEqual(["port-manager"]);
  });

  test("clears temp folders a crashed install left behind", () => {
    const skills = join(tmp, ".claude/skills");
    // PID 2^30 is above every kernel's pid_max, so no live process owns this leftover.
    const leftover = join(skills, `.port-manager.${2 ** 30}.abc123.new`);
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, "SKILL.md"), "half");

    expect(installLocal(tmp).map((r) => r.status)).toEqual(["installed", "installed"]);
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
  test("any host's folder makes ~/.agents/skills (created); ~/.claude only where it exists", () => {
    mkdirSync(join(tmp, ".gemini"));

    const results = installGlobal(tmp);

    expect(results).toEqual([
      { hosts: ["Gemini CLI"], dir: join(tmp, ".agents/skills/port-manager"), status: "installed" },
      {
        hosts: [],
        dir: join(tmp, ".claude/skills/port-manager"),
        status: "skipped",
        reason: `${join(tmp, ".claude")} not found`,
      },
    ]);
    expectExactSkill(join(tmp, ".agents/skills/port-manager"));
    expect(existsSync(join(tmp, ".claude"))).toBe(false);
    expect(readdirSync(tmp).sort()).toEqual([".agents", ".gemini"]);
  });

  test("each host found is named under the folder it reads", () => {
    for (const folder of [".claude", ".codex", ".cursor", ".config/opencode", ".copilot"])
      mkdirSync(join(tmp, folder), { recursive: true });

    const results = installGlobal(tmp);

    expect(results.map((r) => [r.hosts, r.status])).toEqual([
      [["Codex", "Cursor", "OpenCode", "GitHub Copilot"], "installed"],
      [["Claude Code"], "installed"],
    ]);
    expectExactSkill(join(tmp, ".claude/skills/port-manager"));
    expectExactSkill(join(tmp, ".agents/skills/port-manager"));
  });

  test("our older copy in ~/.codex/skills is removed (Codex would list it twice); others stay", () => {
    const legacy = join(tmp, ".codex/skills/port-manager");
    writeSkill(legacy, SKILL_FILES);
    writeSkill(join(tmp, ".codex/skills/other"), [
      { path: "SKILL.md", content: "---\nname: other\n---\n" },
    ]);

    const results = installGlobal(tmp);

    expect(results.map((r) => [r.dir, r.status])).toEqual([
      [join(tmp, ".agents/skills/port-manager"), "installed"],
      [join(tmp, ".claude/skills/port-manager"), "skipped"],
      [legacy, "removed"],
    ]);
    expect(readdirSync(join(tmp, ".codex/skills"))).toEqual(["other"]);

    // A folder of that name that is not our skill is not ours to remove.
    writeSkill(legacy, [{ path: "SKILL.md", content: "---\nname: mine\n---\n" }]);
    expect(installGlobal(tmp).map((r) => r.status)).toEqual(["installed", "skipped"]);
    expect(readdirSync(join(tmp, ".codex/skills")).sort()).toEqual(["other", "port-manager"]);
  });

  test("skips everything when no host folder exists", () => {
    const results = installGlobal(tmp);
    expect(results.map((r) => r.status)).toEqual(["skipped", "skipped"]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("an unwritable target fails with one line while the other installs", () => {
    for (const folder of [".claude", ".agents"]) mkdirSync(join(tmp, folder));
    // A file where the skills folder should be defeats root as well as ordinary users.
    writeFileSync(join(tmp, ".agents/skills"), "not a folder");

    const results = installGlobal(tmp);

    expect(results.map((r) => r.status)).toEqual(["failed", "installed"]);
    const error = results[0]?.error ?? "";
    expect(error).toStartWith(`cannot write ${join(tmp, ".agents/skills/port-manager")}: `);
    expect(error).not.toContain("\n");
    expect(readFileSync(join(tmp, ".agents/skills"), "utf8")).toBe("not a folder");
    expectExactSkill(join(tmp, ".claude/skills/port-manager"));
  });

  test("a read-only skills folder reports permission denied", () => {
    for (const folder of [".claude", ".agents"])
      mkdirSync(join(tmp, folder, "skills"), { recursive: true });
    const folder = join(tmp, ".agents/skills");
    // root writes through modes: an immutable folder refuses root as 0555 refuses a user
    const undo = readOnly(folder);
    if (!undo) {
      console.log("skip: chattr +i is not available here and root writes through file modes");
      return;
    }
    try {
      const results = installGlobal(tmp);

      expect(results.map((r) => r.status)).toEqual(["failed", "installed"]);
      expect(results[0]?.error).toBe(
        `cannot write ${join(tmp, ".agents/skills/port-manager")}: permission denied`,
      );
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      undo();
    }
  });
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
  const skills = join(root, ".agents/skills");
  if (existsSync(skills) && statSync(skills).isDirectory()) chmodSync(skills, 0o755);
}
