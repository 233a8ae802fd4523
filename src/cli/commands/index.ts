// The table of portctl's commands. A command is one row here plus one handler file in this
// folder (see ARCHITECTURE.md, "Adding a command"); the parser, help, typo suggestions,
// `--json` errors and completions are all built from this table.

import { SCAN_DEPTH } from "../../core/config.ts";
import { ENV_FORMATS } from "../envfile.ts";
import {
  FLAGS,
  parseDepth,
  parseDuration,
  parseId,
  parseName,
  parsePid,
  parseVarName,
} from "../flags.ts";
import type { CommandSpec } from "../spec.ts";

export const COMMANDS: CommandSpec[] = [
  {
    name: "start",
    summary: "start the port-server daemon in the background",
    load: () => import("./daemon.ts").then((m) => m.start),
  },
  {
    name: "stop",
    summary: "stop the running daemon",
    load: () => import("./daemon.ts").then((m) => m.stop),
  },
  {
    name: "restart",
    summary: "stop (if running) and start the daemon",
    load: () => import("./daemon.ts").then((m) => m.restart),
  },
  {
    name: "status",
    summary: "show whether the daemon is running (always exits 0)",
    flags: { json: FLAGS.json },
    load: () => import("./daemon.ts").then((m) => m.status),
  },
  {
    name: "allocate",
    summary: "allocate a port for a service",
    flags: {
      app: FLAGS.app,
      instance: FLAGS.instance,
      service: { ...FLAGS.service, help: "service name (required)", required: true },
      port: FLAGS.portOrAuto,
      reuse: { help: "return the existing allocation of this service instead of failing" },
      "lease-pid": {
        value: "<pid>",
        help: "release the port when this process exits",
        convert: parsePid,
      },
      lease: { help: "release the port when the calling shell or test runner exits" },
      quiet: { short: "q", help: "print only the port number" },
      json: FLAGS.json,
    },
    load: () => import("./allocate.ts").then((m) => m.allocate),
  },
  {
    name: "release",
    summary: "release allocations by id, or by filter (AND-ed)",
    flags: {
      id: { value: "<number>", help: "release one allocation by id", convert: parseId },
      app: {
        ...FLAGS.app,
        help: "filter by application (default: this checkout's app and instance, unless --port)",
      },
      instance: {
        ...FLAGS.instance,
        help: "filter by instance (default: this checkout's, unless --app or --port)",
      },
      service: FLAGS.service,
      port: { ...FLAGS.port, help: "release the allocation of this port" },
      json: FLAGS.json,
    },
    load: () => import("./release.ts").then((m) => m.release),
  },
  {
    name: "list",
    summary: "list allocations of the current app (--all: every app)",
    flags: {
      app: FLAGS.app,
      instance: { value: "<name>", help: "filter by instance", convert: parseName },
      service: FLAGS.service,
      all: { help: "every app, not just the current one" },
      long: { short: "l", help: "also each allocation's checkout and when it last listened" },
      json: FLAGS.json,
    },
    load: () => import("./list.ts").then((m) => m.list),
  },
  {
    name: "check",
    summary: "exit 0 if a port is free, 1 if it is taken",
    flags: {
      port: { ...FLAGS.port, help: "port to check (required)", required: true },
      json: FLAGS.json,
    },
    load: () => import("./check.ts").then((m) => m.check),
  },
  {
    name: "prune",
    summary: "list (--yes: release) allocations whose checkout no longer exists",
    flags: {
      yes: { help: "release them (without it, only list them)" },
      "unused-for": {
        value: "<duration>",
        help: "also those not seen listening for this long (30m, 3h, 30d, 2w)",
        convert: parseDuration,
      },
      json: FLAGS.json,
    },
    load: () => import("./prune.ts").then((m) => m.prune),
  },
  {
    name: "history",
    summary: "who had a port and when it changed, newest first",
    flags: {
      port: { ...FLAGS.port, help: "only this port" },
      app: { ...FLAGS.app, help: "only this application" },
      instance: { value: "<name>", help: "only this instance", convert: parseName },
      service: FLAGS.service,
      since: {
        value: "<duration|time>",
        help: "only events since then: 30m, 3h, 1d, 2w or an RFC 3339 time",
      },
      limit: {
        value: "<n>",
        help: "at most this many events (default 1000)",
        convert: parseId,
      },
      json: FLAGS.json,
    },
    load: () => import("./history.ts").then((m) => m.history),
  },
  {
    name: "export",
    summary: "print the current app's allocations (--all: every app) as JSON, for import",
    flags: {
      app: FLAGS.app,
      all: { help: "every app, not just the current one" },
    },
    load: () => import("./backup.ts").then((m) => m.exportAllocations),
  },
  {
    name: "import",
    summary: "register the allocations of an export file, all or nothing",
    args: [{ name: "file", help: "a file written by portctl export (- for standard input)" }],
    flags: { json: FLAGS.json },
    load: () => import("./backup.ts").then((m) => m.importAllocations),
  },
  {
    name: "env",
    summary: "print the current app/instance's ports as SERVICE_PORT=N lines",
    flags: {
      app: FLAGS.app,
      instance: FLAGS.instance,
      format: { value: "<format>", help: "output format", choices: ENV_FORMATS, default: "dotenv" },
      write: {
        value: "<file>",
        help: "update these keys in a .env file, keeping every other line",
      },
      json: { help: "the same as --format json", implies: { format: "json" } },
    },
    load: () => import("./env.ts").then((m) => m.env),
  },
  {
    name: "scan",
    summary: "find host-bound ports in Compose files, .env files and package.json scripts",
    args: [
      {
        name: "dir",
        help: "project folder (default: the repository's top folder, else .)",
        optional: true,
      },
    ],
    flags: {
      depth: {
        value: "<n>",
        help: `folder levels below it to read (default ${SCAN_DEPTH})`,
        convert: parseDepth,
      },
      register: {
        help: "allocate each port found for the scanned folder's app/instance (reusing existing ones)",
      },
      fix: {
        help: "rewrite literal Compose host ports as variables (old number as default), in place",
      },
      "dry-run": { help: "with --fix: print the changes, write nothing", implies: { fix: true } },
      app: FLAGS.app,
      instance: FLAGS.instance,
      json: FLAGS.json,
    },
    load: () => import("./scan.ts").then((m) => m.scan),
  },
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
          "install the skill into .claude/skills/ (or --global: ~/.claude, ~/.codex, ~/.agents)",
        flags: { global: { help: "install for every agent platform found in your home folder" } },
        load: () => import("./skill.ts").then((m) => m.skillInstall),
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
          json: FLAGS.json,
        },
        load: () => import("./service.ts").then((m) => m.serviceInstall),
      },
      {
        name: "uninstall",
        summary: "stop the service and remove its file",
        flags: {
          "dry-run": { help: "print the commands instead" },
          json: FLAGS.json,
        },
        load: () => import("./service.ts").then((m) => m.serviceUninstall),
      },
      {
        name: "status",
        summary: "show whether the service is installed and running (always exits 0)",
        flags: { json: FLAGS.json },
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
          print: { help: "print each host's configuration instead of writing it" },
        },
        load: () => import("../mcp/install.ts").then((m) => m.mcpInstall),
      },
    ],
  },
];
