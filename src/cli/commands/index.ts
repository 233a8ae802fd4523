// The table of portctl's commands. A command is one row (here, in registry-rows.ts or in
// tool-rows.ts) plus one handler file in this folder (see ARCHITECTURE.md, "Adding a
// command"); the parser, help, typo suggestions, `--json` errors and completions are all
// built from this table. Its order is the order of `portctl --help`.
import { FLAGS } from "../flags.ts";
import type { CommandSpec } from "../spec.ts";
import { REGISTRY_COMMANDS } from "./registry-rows.ts";
import { TOOL_COMMANDS } from "./tool-rows.ts";

const DAEMON_COMMANDS: CommandSpec[] = [
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
];

export const COMMANDS: CommandSpec[] = [...DAEMON_COMMANDS, ...REGISTRY_COMMANDS, ...TOOL_COMMANDS];
