// `portctl mcp install` as the real hosts read it (pinned in test/hosts): with the compiled
// portctl on PATH, each project file names `portctl` by command, and `claude mcp list` and
// `gemini mcp list` (the folder trusted, the server approved, as a user does once) connect to
// it; `codex mcp list --json` lists it enabled. Each host runs with a temp HOME, offline.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinaries, runBinary } from "../helpers/binaries.ts";
import { makeRepo } from "../helpers/git.ts";
import { type HostHome, hostBin, hostHome, runHost, trustForGemini } from "../helpers/hosts.ts";

const claude = hostBin("claude");
const codex = hostBin("codex");
const gemini = hostBin("gemini");

let h: HostHome;
let repo = "";
let env: Record<string, string>;
let installed = "";

beforeAll(async () => {
  const bin = await builtBinaries();
  h = hostHome();
  env = { ...h.env, PATH: `${bin}:${h.env.PATH}` };
  repo = makeRepo(h.root).main;
  const r = await runBinary(
    join(bin, "portctl"),
    ["mcp", "install", "--claude", "--codex", "--gemini", "--vscode", "--cursor"],
    { cwd: repo, env },
  );
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  installed = r.stdout;
}, 120_000);

afterAll(() => h?.cleanup());

describe("project files name portctl by command", () => {
  test("no note: the portctl on PATH is the one that wrote them", () => {
    expect(installed).not.toContain("note:");
    const entry = { command: "portctl", args: ["mcp"] };
    const read = (file: string) => JSON.parse(readFileSync(join(repo, file), "utf8"));
    expect(read(".mcp.json").mcpServers["port-server"]).toEqual({ type: "stdio", ...entry });
    expect(read(".gemini/settings.json").mcpServers["port-server"]).toEqual(entry);
    expect(read(".cursor/mcp.json").mcpServers["port-server"]).toEqual(entry);
    expect(read(".vscode/mcp.json").servers["port-server"]).toEqual({ type: "stdio", ...entry });
  });
});

describe("the hosts connect", () => {
  test.skipIf(!claude)(
    "claude mcp list: port-server connected",
    async () => {
      // What Claude Code records once the user trusts the folder and approves .mcp.json.
      writeFileSync(
        join(h.home, ".claude.json"),
        JSON.stringify({ projects: { [repo]: { hasTrustDialogAccepted: true } } }),
      );
      mkdirSync(join(repo, ".claude"), { recursive: true });
      writeFileSync(
        join(repo, ".claude/settings.local.json"),
        JSON.stringify({ enabledMcpjsonServers: ["port-server"] }),
      );
      const r = await runHost([claude as string, "mcp", "list"], { cwd: repo, env });
      expect(r.stdout).toContain("port-server: portctl mcp - ✔ Connected");
    },
    120_000,
  );

  test.skipIf(!gemini)(
    "gemini mcp list: port-server connected",
    async () => {
      trustForGemini(h.home, repo);
      const r = await runHost([gemini as string, "mcp", "list"], { cwd: repo, env });
      // Gemini CLI writes the list on stderr.
      expect(r.stdout + r.stderr).toContain("✓ port-server: portctl mcp (stdio) - Connected");
    },
    120_000,
  );

  test.skipIf(!codex)(
    "codex mcp list --json: port-server enabled, on stdio",
    async () => {
      const r = await runHost([codex as string, "mcp", "list", "--json"], { cwd: repo, env });
      expect(r.code).toBe(0);
      const servers = JSON.parse(r.stdout) as {
        name: string;
        enabled: boolean;
        transport: object;
      }[];
      const ours = servers.find((s) => s.name === "port-server");
      expect(ours?.enabled).toBe(true);
      expect(ours?.transport).toMatchObject({ type: "stdio", args: ["mcp"] });
    },
    120_000,
  );
});
