// `skill install` into a cloned repository that carries `.claude` or `.claude/skills` as a
// symlink (issue #11, point 12): written through only while the link stays inside the project or
// the user's home; anywhere else is refused with one line and nothing is written there.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installGlobal, installLocal } from "../../src/skill/install.ts";
import { runWith } from "../helpers/cli.ts";

let tmp: string;
let project: string;
let home: string;
let outside: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "port-server-skill-link-"));
  project = join(tmp, "project");
  home = join(tmp, "home");
  outside = join(tmp, "elsewhere");
  for (const d of [project, home, outside]) mkdirSync(d);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const refusal = (link: string, target: string) =>
  `refusing to write through ${link}: it is a symbolic link to ${target}, outside the project and your home folder`;

describe("installLocal through a symlink", () => {
  test(".claude/skills pointing outside the project and home: refused, nothing written there", () => {
    mkdirSync(join(project, ".claude"));
    symlinkSync(outside, join(project, ".claude/skills"));
    expect(installLocal(project, home)[1]).toEqual({
      hosts: ["Claude Code"],
      dir: join(project, ".claude/skills/port-manager"),
      status: "failed",
      error: refusal(join(project, ".claude/skills"), outside),
    });
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a .claude link to a folder outside is refused the same way", () => {
    symlinkSync(outside, join(project, ".claude"));
    expect(installLocal(project, home)[1]?.error).toBe(refusal(join(project, ".claude"), outside));
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a dangling link is judged by where it points, and nothing is created there", () => {
    mkdirSync(join(project, ".claude"));
    const nowhere = join(outside, "not-yet");
    symlinkSync(nowhere, join(project, ".claude/skills"));
    expect(installLocal(project, home)[1]?.error).toBe(
      refusal(join(project, ".claude/skills"), nowhere),
    );
    expect(existsSync(nowhere)).toBe(false);
  });

  test("a relative link inside the project, or a link into home, is written through", () => {
    mkdirSync(join(project, "shared/skills"), { recursive: true });
    mkdirSync(join(project, ".claude"));
    symlinkSync("../shared/skills", join(project, ".claude/skills"));
    expect(installLocal(project, home)[1]?.status).toBe("installed");
    expect(readdirSync(join(project, "shared/skills"))).toEqual(["port-manager"]);

    const other = join(tmp, "other");
    mkdirSync(other);
    mkdirSync(join(home, "claude-config"));
    symlinkSync(join(home, "claude-config"), join(other, ".claude"));
    expect(installLocal(other, home)[1]?.status).toBe("installed");
    expect(readdirSync(join(home, "claude-config/skills"))).toEqual(["port-manager"]);
  });

  test("portctl skill install: one line (escaped), exit 1", async () => {
    mkdirSync(join(project, ".claude"));
    symlinkSync(outside, join(project, ".claude/skills"));
    const r = await runWith(["skill", "install"], { env: { HOME: home }, cwd: project, home });
    expect(r).toEqual({
      code: 1,
      out: [
        `installed port-manager skill in ${join(project, ".agents/skills/port-manager")}: seen by Codex, Gemini CLI, Cursor, Goose, OpenCode, GitHub Copilot`,
      ],
      err: [
        `failed ${join(project, ".claude/skills/port-manager")}: ${refusal(join(project, ".claude/skills"), outside)}`,
      ],
    });
  });
});

describe("installGlobal through a symlink", () => {
  test("~/.claude/skills leading out of home is refused; the other platforms still get it", () => {
    mkdirSync(join(home, ".claude"));
    mkdirSync(join(home, ".codex"));
    symlinkSync(outside, join(home, ".claude/skills"));
    const [agents, claude] = installGlobal(home);
    expect(claude?.error).toBe(refusal(join(home, ".claude/skills"), outside));
    expect(agents?.status).toBe("installed");
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a ~/.agents/skills link leading out of home is refused too", () => {
    mkdirSync(join(home, ".agents"));
    mkdirSync(join(home, ".codex"));
    symlinkSync(outside, join(home, ".agents/skills"));
    const [agents] = installGlobal(home);
    expect(agents?.error).toBe(refusal(join(home, ".agents/skills"), outside));
    expect(readdirSync(outside)).toEqual([]);
  });
});
