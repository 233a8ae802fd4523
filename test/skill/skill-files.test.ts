// The skill must satisfy the Agent Skills spec (front matter rules, folder name = name), stay
// short enough for an agent to read in one go, and teach only commands portctl really has.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import { SKILL_FILES, SKILL_NAME } from "../../src/skill/files.ts";
import { parseCli } from "../helpers/parse.ts";

const SKILL_DIR = join(import.meta.dir, "../../src/skill/port-manager");
const skillMd = readFileSync(join(SKILL_DIR, "SKILL.md"), "utf8");

describe("SKILL.md front matter", () => {
  const { meta, body } = splitFrontMatter(skillMd);

  test("has only fields the spec defines", () => {
    const allowed = [
      "name",
      "description",
      "license",
      "compatibility",
      "metadata",
      "allowed-tools",
    ];
    for (const key of Object.keys(meta)) expect(allowed).toContain(key);
  });

  test("name follows the naming rules and equals the folder name", () => {
    const name = meta.name;
    expect(typeof name).toBe("string");
    expect(String(name).length).toBeGreaterThanOrEqual(1);
    expect(String(name).length).toBeLessThanOrEqual(64);
    expect(String(name)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(name).toBe(basename(SKILL_DIR));
    expect(name).toBe(SKILL_NAME);
  });

  test("description says what and when, with the phrases users type", () => {
    const description = meta.description;
    expect(typeof description).toBe("string");
    const text = String(description);
    expect(text.trim().length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(1024);
    for (const phrase of [
      "docker compose",
      "docker-compose.yml",
      "dev server",
      "port",
      "pick a port",
      "port conflict",
      "address already in use",
      "eaddrinuse",
      "git worktree",
    ]) {
      expect(text.toLowerCase()).toContain(phrase);
    }
  });

  test("body is short and non-empty", () => {
    expect(body.trim().length).toBeGreaterThan(500);
    expect(body.length).toBeLessThan(20_000);
  });

  test("body links references/WORKFLOW.md by a relative path that exists", () => {
    const links = relativeLinks(body);
    expect(links).toContain("references/WORKFLOW.md");
    for (const link of links) expect(existsSync(join(SKILL_DIR, link))).toBe(true);
  });
});

describe("embedded files", () => {
  test("are the skill folder's files, byte for byte", () => {
    expect(SKILL_FILES.map((f) => f.path)).toEqual(["SKILL.md", "references/WORKFLOW.md"]);
    for (const file of SKILL_FILES) {
      expect(file.content).toBe(readFileSync(join(SKILL_DIR, file.path), "utf8"));
    }
  });

  test("WORKFLOW.md is readable in one go and its links resolve", () => {
    const workflow = readFileSync(join(SKILL_DIR, "references/WORKFLOW.md"), "utf8");
    expect(workflow.split(/\s+/).length).toBeLessThan(2_500);
    for (const link of relativeLinks(workflow)) {
      expect(existsSync(join(SKILL_DIR, "references", link))).toBe(true);
    }
  });
});

describe("portctl examples", () => {
  for (const file of SKILL_FILES) {
    test(`${file.path} uses only real commands and flags`, async () => {
      const invocations = portctlInvocations(file.content);
      expect(invocations.length).toBeGreaterThan(5);
      for (const argv of invocations)
        expect(`${argv.join(" ")}: ${await parseCli(argv)}`).toEndWith(": ok");
    });
  }

  test("the real parser rejects what portctl does not accept", async () => {
    expect(await parseCli(["allocate", "--port", "5432"])).toContain("--service");
    expect(await parseCli(["allocate", "--service", "web", "--force"])).toContain("--force");
    expect(await parseCli(["check", "--port", "N"])).toContain("--port");
    expect(await parseCli(["free", "--port", "3000"])).toContain("free");
    expect(await parseCli(["allocate", "--service", "web"])).toBe("ok");
  });
});

// --- internal ---

function splitFrontMatter(text: string): { meta: Record<string, unknown>; body: string } {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (!match) throw new Error("SKILL.md must start with a --- YAML front matter block");
  const meta: unknown = parse(match[1] ?? "");
  if (typeof meta !== "object" || meta === null) throw new Error("front matter is not a map");
  return { meta: meta as Record<string, unknown>, body: match[2] ?? "" };
}

/** Markdown link targets that are not URLs or anchors. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? "")
    .filter((target) => !/^([a-z]+:|#)/i.test(target));
}

/** Every portctl command line in fenced code blocks, also inside `$( … )`. */
function portctlInvocations(markdown: string): string[][] {
  const out: string[][] = [];
  let inCode = false;
  for (const raw of markdown.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("```")) {
      inCode = !inCode;
      continue;
    }
    if (!inCode) continue;
    if (line.startsWith("portctl ")) out.push(line.split(/\s+/).slice(1));
    for (const m of line.matchAll(/\$\(portctl ([^)]*)\)/g)) out.push((m[1] ?? "").split(/\s+/));
  }
  return out;
}
