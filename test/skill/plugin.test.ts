// `portctl skill install --plugin DIR`: the Claude Code plugin's files (the skill byte for byte,
// .mcp.json, hooks calling portctl by name), written again in place, and a folder holding
// anything else refused untouched. The real `claude plugin validate` checks it in
// test/e2e/hosts-plugin.test.ts.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SKILL_FILES } from "../../src/skill/files.ts";
import { runWith } from "../helpers/cli.ts";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "port-server-plugin-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const install = (...argv: string[]) =>
  runWith(["skill", "install", ...argv], { env: { HOME: tmp }, cwd: tmp, home: tmp });

describe("skill install --plugin", () => {
  test("the skill, the MCP server and the hooks, in Claude Code's plugin layout", async () => {
    const r = await install("--plugin", "plug");
    expect(r).toEqual({
      code: 0,
      out: [
        `wrote the port-server Claude Code plugin (skill, MCP server, hooks) in ${join(tmp, "plug")}`,
        `try it: claude --plugin-dir ${join(tmp, "plug")}`,
      ],
      err: [],
    });
    const dir = join(tmp, "plug");
    const read = (p: string) => readFileSync(join(dir, p), "utf8");
    expect(JSON.parse(read(".claude-plugin/plugin.json"))).toMatchObject({
      name: "port-server",
      license: "MIT",
    });
    expect(JSON.parse(read(".mcp.json"))).toEqual({
      mcpServers: { "port-server": { type: "stdio", command: "portctl", args: ["mcp"] } },
    });
    const hooks = JSON.parse(read("hooks/hooks.json")).hooks;
    expect(Object.keys(hooks)).toEqual([
      "SessionStart",
      "UserPromptSubmit",
      "PostToolUse",
      "SessionEnd",
    ]);
    for (const groups of Object.values(hooks) as { hooks: { type: string }[] }[][])
      expect(groups[0]?.hooks[0]?.type).toBe("command");
    expect(hooks.PostToolUse[0].hooks[0]).toMatchObject({ async: true });
    expect(hooks.SessionStart[0].hooks[0].command).toEndWith("portctl session start --hook claude");
    for (const f of SKILL_FILES) expect(read(`skills/port-manager/${f.path}`)).toBe(f.content);
    expect(read("LICENSE")).toStartWith("MIT License");
  });

  test("written again in place (a stale file goes); a foreign folder is refused untouched", async () => {
    const dir = join(tmp, "plug");
    await install("--plugin", dir);
    writeFileSync(join(dir, "stale.txt"), "old");
    expect((await install("--plugin", dir)).code).toBe(0);
    expect(readdirSync(dir)).not.toContain("stale.txt");

    const mine = join(tmp, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.md"), "keep");
    expect(await install("--plugin", mine)).toEqual({
      code: 1,
      out: [],
      err: [
        `error: ${mine} is not empty and holds no port-server plugin; choose an empty or new folder`,
      ],
    });
    expect(readdirSync(mine)).toEqual(["notes.md"]);
    expect((await install("--plugin", dir, "--global")).err).toEqual([
      "error: --plugin and --global: pass one",
    ]);
  });
});

describe("skill install --global", () => {
  test("no agent host in the home folder: nothing installed is an error (exit 1), not success", async () => {
    const r = await install("--global");
    expect(r.code).toBe(1);
    expect(r.err.at(-1)).toStartWith("error: no agent host found in your home folder (");
    expect(r.err.at(-1)).toEndWith(
      "nothing installed (install the agent first, or run skill install in a project)",
    );
    expect(readdirSync(tmp)).toEqual([]);
  });
});
