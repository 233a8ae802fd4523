// `portctl skill install --plugin DIR`: a Claude Code plugin holding everything an agent needs
// in one folder: the skill, the MCP server (.mcp.json) and the session hooks (hooks/hooks.json),
// each calling `portctl` by name (the plugin travels to machines where it is on PATH). Written
// like a skill folder: whole, by rename, never half.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import license from "../../LICENSE" with { type: "text" };
import { CLAUDE_EVENTS, claudeEntry, type HookCommand } from "../cli/hooks/events.ts";
import { MCP_SERVER_NAME } from "../core/config.ts";
import { PortError } from "../core/errors.ts";
import { isFolder, pathExists } from "../core/files.ts";
import { VERSION } from "../core/version.ts";
import { SKILL_FILES, SKILL_NAME, type SkillFile } from "./files.ts";
import { writeSkill } from "./install.ts";

export const PLUGIN_NAME = "port-server";

/** Writes the plugin into `dir` (created, or replacing an earlier port-server plugin there). */
export function installPlugin(dir: string): void {
  refuseForeign(dir);
  writeSkill(dir, pluginFiles());
}

/** The plugin's files; `version` is the release's when scripts/plugin.ts writes one. */
export function pluginFiles(version: string = VERSION): SkillFile[] {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return [
    { path: ".claude-plugin/plugin.json", content: json({ ...MANIFEST, version }) },
    { path: ".mcp.json", content: json({ mcpServers: { [MCP_SERVER_NAME]: MCP_SERVER } }) },
    { path: "hooks/hooks.json", content: json({ hooks: HOOKS }) },
    { path: "README.md", content: README },
    { path: "LICENSE", content: license },
    ...SKILL_FILES.map((f) => ({ path: `skills/${SKILL_NAME}/${f.path}`, content: f.content })),
  ];
}

// --- internal ---

const MANIFEST = {
  name: PLUGIN_NAME,
  description:
    "Ports from the local port registry instead of guessed numbers: the port-manager skill, the port-server MCP tools, and hooks that give each session in a git worktree its ports and free them when it ends.",
  author: { name: "the port-server authors" },
  license: "MIT",
  keywords: ["ports", "docker-compose", "worktrees", "dev-server", "mcp"],
};

const MCP_SERVER = { type: "stdio", command: "portctl", args: ["mcp"] };

/** Without portctl on PATH the hooks do nothing rather than fail every session. */
function hook(sub: HookCommand) {
  const command = `command -v portctl >/dev/null 2>&1 || exit 0; portctl session ${sub} --hook claude`;
  return [{ hooks: [claudeEntry(command, sub)] }];
}

/** The same events `portctl hooks install --claude` writes (no WorktreeRemove: see there). */
const HOOKS = Object.fromEntries(
  Object.entries(CLAUDE_EVENTS).map(([event, sub]) => [event, hook(sub)]),
);

const README = `# port-server for Claude Code

This plugin connects Claude Code to port-server, the local registry that hands out host ports
so Docker Compose stacks, dev servers and git worktrees on one machine never collide. It needs
\`portctl\` on your PATH and its daemon running (\`portctl start\`).

- **Skill** \`port-manager\`: teaches Claude to ask the registry for every port instead of
  picking numbers, to register only host-bound ports, and to release them on teardown.
- **MCP server** \`port-server\` (\`portctl mcp\`): the tools allocate, release, list, check, env,
  scan, prune and history.
- **Hooks**: SessionStart allocates the ports the project declares (its Compose host-port
  variables and the dev server's \`WEB_PORT\`) and exports them into the session; in a linked
  worktree they are held for that session: each prompt and tool use is a heartbeat (in the
  background), and SessionEnd frees them, as does removing the worktree. A session that stops
  without ending lets them go after 4 hours without a heartbeat. The main checkout's ports are
  never freed by a hook.

Use it with \`claude --plugin-dir PATH\` (or add it to a plugin marketplace). Every release
carries it as its \`plugin/\` folder, and \`portctl skill install --plugin DIR\` writes the same
files; the same parts one by one: \`portctl skill install\`, \`portctl mcp install --claude\`,
\`portctl hooks install --claude\`.
`;

/** Never replace a folder that holds something else: only nothing, or our own plugin. */
function refuseForeign(dir: string): void {
  if (!pathExists(dir)) return;
  if (!isFolder(dir)) throw new PortError("bad_request", `${dir} exists and is not a folder`);
  const manifest = join(dir, ".claude-plugin/plugin.json");
  if (readdirSync(dir).length === 0) return;
  try {
    if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === PLUGIN_NAME)
      return;
  } catch {
    // Not a plugin of ours: refused below.
  }
  throw new PortError(
    "bad_request",
    `${dir} is not empty and holds no port-server plugin; choose an empty or new folder`,
  );
}
