// The rows of the command table (index.ts) for what surrounds the registry: running dev
// servers, the agent skill, the dashboard, MCP, the login service, diagnostics, completions.
import { FLAGS, parseVarName } from "../flags.ts";
import type { CommandSpec } from "../spec.ts";

export const TOOL_COMMANDS: CommandSpec[] = [
  {
    name: "run",
    summary: "run a dev server on this checkout's registered port (PORT, {port}, framework flags)",
    args: [{ name: "command", help: "the command and its arguments (after --)", rest: true }],
    flags: {
      app: FLAGS.app,
      instance: FLAGS.instance,
      service: {
        ...FLAGS.service,
        help: "service name (default: the folder's name below the repo root, else web)",
      },
      env: {
        value: "<var>",
        help: "also set this variable to the port (repeatable)",
        convert: parseVarName,
        repeatable: true,
      },
      "no-inject": { help: "do not add a framework's port flag (vite --port N --strictPort)" },
      lease: { help: "release the port(s) when the run ends (the next run may get another)" },
      force: {
        help: "Compose: use the project name given (-p, COMPOSE_PROJECT_NAME) even if another checkout holds it",
      },
    },
    load: () => import("./run.ts").then((m) => m.run),
  },
  {
    name: "health",
    summary: "exit 0 if the server answers, 1 otherwise",
    flags: { json: FLAGS.json },
    load: () => import("./health.ts").then((m) => m.health),
  },
  {
    name: "version",
    summary: "print version, commit and build date",
    load: () => import("./health.ts").then((m) => m.version),
  },
  {
    name: "skill",
    summary: "the port-manager agent skill",
    subcommands: [
      {
        name: "install",
        summary:
          "install the skill into .agents/skills/ and .claude/skills/ (or --global: ~/.agents, ~/.claude)",
        args: [
          {
            name: "dir",
            help: "project folder (default: the repository's top folder, else .)",
            optional: true,
          },
        ],
        flags: {
          global: { help: "install for every agent host found in your home folder" },
          plugin: {
            value: "<dir>",
            help: "write a Claude Code plugin there instead (skill, MCP server, session hooks)",
          },
        },
        load: () => import("./skill.ts").then((m) => m.skillInstall),
      },
    ],
  },
  {
    name: "hooks",
    summary: "agent hooks that give each session its ports and free a linked worktree's at its end",
    subcommands: [
      {
        name: "install",
        summary: "write a host's hook configuration (project, or --global)",
        flags: {
          claude: {
            help: "Claude Code: .claude/settings.json (SessionStart, UserPromptSubmit, PostToolUse, SessionEnd)",
          },
          codex: { help: "Codex: .codex/hooks.json (SessionStart, UserPromptSubmit, SessionEnd)" },
          gemini: {
            help: "Gemini CLI: .gemini/settings.json (SessionStart, BeforeAgent, SessionEnd)",
          },
          global: { help: "in your home folder's settings instead of this project's" },
          print: { help: "print the configuration instead of writing it" },
        },
        load: () => import("../hooks/install.ts").then((m) => m.hooksInstall),
      },
    ],
  },
  {
    name: "ui",
    summary: "open the dashboard in the browser (prints its address)",
    flags: { "no-open": { help: "only print the address" } },
    load: () => import("./ui.ts").then((m) => m.ui),
  },
  {
    name: "doctor",
    summary: "check the daemon, versions, database, state folder, settings and skill",
    flags: { json: FLAGS.json },
    load: () => import("./doctor.ts").then((m) => m.doctor),
  },
  {
    name: "service",
    summary: "run the daemon as a login service (systemd user unit, launchd agent)",
    subcommands: [
      {
        name: "install",
        summary: "install and start the service; a daemon started by hand is handed over",
        flags: {
          "dry-run": { help: "print the service file and the commands instead" },
          system: {
            help: "one registry for every user: a system service with a user of its own (root)",
          },
          json: FLAGS.json,
        },
        load: () => import("./service.ts").then((m) => m.serviceInstall),
      },
      {
        name: "uninstall",
        summary: "stop the service and remove its file",
        flags: {
          "dry-run": { help: "print the commands instead" },
          system: {
            help: "one registry for every user: a system service with a user of its own (root)",
          },
          json: FLAGS.json,
        },
        load: () => import("./service.ts").then((m) => m.serviceUninstall),
      },
      {
        name: "status",
        summary: "show whether the service is installed and running (always exits 0)",
        flags: {
          system: {
            help: "one registry for every user: a system service with a user of its own (root)",
          },
          json: FLAGS.json,
        },
        load: () => import("./service.ts").then((m) => m.serviceStatus),
      },
    ],
  },
  {
    name: "completion",
    summary: "print a shell completion script (bash, zsh or fish)",
    subcommands: [
      {
        name: "bash",
        summary: 'bash: eval "$(portctl completion bash)"',
        load: () => import("./completion.ts").then((m) => m.completion("bash")),
      },
      {
        name: "zsh",
        summary: "zsh: source <(portctl completion zsh)",
        load: () => import("./completion.ts").then((m) => m.completion("zsh")),
      },
      {
        name: "fish",
        summary: "fish: portctl completion fish | source",
        load: () => import("./completion.ts").then((m) => m.completion("fish")),
      },
      {
        name: "services",
        summary: "print this app's service names, one a line (used by the scripts)",
        load: () => import("./completion.ts").then((m) => m.completionServices),
      },
    ],
  },
  {
    name: "mcp",
    summary: "serve the registry as MCP tools on stdio, for agent hosts (install: configure one)",
    load: () => import("../mcp/server.ts").then((m) => m.mcp),
    subcommands: [
      {
        name: "install",
        summary: "add portctl mcp to an agent host's MCP configuration",
        flags: {
          claude: { help: "Claude Code: .mcp.json in this folder" },
          codex: { help: "Codex: [mcp_servers.port-server] in ~/.codex/config.toml" },
          cursor: { help: "Cursor: .cursor/mcp.json in this folder" },
          gemini: { help: "Gemini CLI: .gemini/settings.json in this folder" },
          vscode: { help: "VS Code: .vscode/mcp.json in this folder" },
          print: { help: "print each host's configuration instead of writing it" },
        },
        load: () => import("../mcp/install.ts").then((m) => m.mcpInstall),
      },
    ],
  },
];
