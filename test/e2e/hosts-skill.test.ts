// The skill as the real hosts see it (pinned in test/hosts, installed by scripts/agent-hosts.ts):
// after `portctl skill install` in a project, Codex puts port-manager in its prompt and Gemini
// CLI lists it; after `--global` with only ~/.gemini at home, Gemini CLI lists it from anywhere.
// Each host runs with a temp HOME and offline.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { builtBinaries, runBinary } from "../helpers/binaries.ts";
import { makeRepo } from "../helpers/git.ts";
import { type HostHome, hostBin, hostHome, runHost, trustForGemini } from "../helpers/hosts.ts";

const codex = hostBin("codex");
const gemini = hostBin("gemini");

let h: HostHome | undefined;
afterEach(() => h?.cleanup());

async function portctl(cwd: string, env: Record<string, string>, ...args: string[]) {
  const bin = join(await builtBinaries(), "portctl");
  const r = await runBinary(bin, args, { cwd, env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

describe("a project's skill", () => {
  test.skipIf(!codex)(
    "codex debug prompt-input lists port-manager from .agents/skills",
    async () => {
      h = hostHome();
      const repo = makeRepo(h.root).main;
      const before = await runHost([codex as string, "debug", "prompt-input"], {
        cwd: repo,
        env: h.env,
      });
      expect(before.stdout).not.toContain("port-manager");
      expect(await portctl(repo, h.env, "skill", "install")).toContain(
        `${join(repo, ".agents/skills/port-manager")}: seen by Codex, Gemini CLI`,
      );
      const after = await runHost([codex as string, "debug", "prompt-input"], {
        cwd: repo,
        env: h.env,
      });
      expect(after.code).toBe(0);
      expect(after.stdout).toContain("port-manager/SKILL.md");
      expect(after.stdout).toContain("Get host ports from the local port registry");
    },
    120_000,
  );

  test.skipIf(!gemini)(
    "gemini skills list shows port-manager in a trusted project",
    async () => {
      h = hostHome();
      const repo = makeRepo(h.root).main;
      trustForGemini(h.home, repo);
      await portctl(repo, h.env, "skill", "install");
      const r = await runHost([gemini as string, "skills", "list"], { cwd: repo, env: h.env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("port-manager [Enabled]");
      expect(r.stdout).toContain(join(repo, ".agents/skills/port-manager/SKILL.md"));
    },
    120_000,
  );
});

describe("--global", () => {
  test.skipIf(!gemini)(
    "with only ~/.gemini at home, Gemini CLI sees it everywhere",
    async () => {
      h = hostHome();
      mkdirSync(join(h.home, ".gemini"));
      const elsewhere = join(h.root, "elsewhere");
      mkdirSync(elsewhere);
      expect(await portctl(elsewhere, h.env, "skill", "install", "--global")).toContain(
        `installed port-manager skill in ${join(h.home, ".agents/skills/port-manager")}: seen by Gemini CLI`,
      );
      const r = await runHost([gemini as string, "skills", "list"], { cwd: elsewhere, env: h.env });
      expect(r.stdout).toContain(join(h.home, ".agents/skills/port-manager/SKILL.md"));
    },
    120_000,
  );
});
