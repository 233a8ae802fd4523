// Help text, built from the command table: `portctl --help`, `portctl help <command>`,
// `portctl <command> --help`. Loaded only when help is shown.
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DOCS_PAGE_URL,
  DOCS_URL,
  ENV,
  STATE_DIR_NAME,
} from "../core/config.ts";
import { EXAMPLES } from "./examples.ts";
import { ROOT_FLAGS } from "./parse.ts";
import { type CommandSpec, type Flag, flagLabel } from "./spec.ts";

const DESCRIPTION = "Ask the local port registry for ports instead of guessing numbers.";

/**
 * The reference page (and section) of each top-level command, named on its --help's last line;
 * a subcommand has its group's. Commands not listed are described in cli.md.
 */
export const DOC_PAGES: Record<string, string> = {
  allocate: "cli.md#allocate",
  release: "cli.md#release",
  list: "cli.md#list",
  prune: "cli.md#prune",
  history: "cli.md#history",
  export: "cli.md#export-and-import",
  import: "cli.md#export-and-import",
  check: "cli.md#check",
  env: "cli.md#env",
  scan: "cli.md#scan",
  completion: "cli.md#completion",
  service: "cli.md#service",
  run: "compose.md",
  url: "names.md",
  session: "agents.md#ports-that-follow-the-agents-session",
  hooks: "agents.md#session-hooks",
  skill: "agents.md#the-skill",
  mcp: "agents.md#the-mcp-server",
  ui: "dashboard.md",
  doctor: "configuration.md#troubleshooting",
};

/** The address of `command`'s reference: `…/docs/cli.md#allocate`. */
export function docsUrl(command: string): string {
  return `${DOCS_PAGE_URL}/${DOC_PAGES[command] ?? "cli.md"}`;
}

/** The help of `path` (empty: portctl itself), as lines. */
export function helpLines(path: CommandSpec[], table: CommandSpec[]): string[] {
  const command = path[path.length - 1];
  if (!command) return rootHelp(table);
  const full = ["portctl", ...path.map((c) => c.name)].join(" ");
  if (command.subcommands) {
    // A group that also runs itself (`portctl mcp`) has both usages.
    const usage = command.load
      ? [`Usage: ${full} [options]`, `       ${full} <command> [options]`]
      : [`Usage: ${full} <command> [options]`];
    return [
      ...usage,
      "",
      command.summary,
      "",
      "Commands:",
      ...rows(command.subcommands.map((c) => [c.name, c.summary])),
      "",
      `Run '${full} <command> --help' for a command's options.`,
      ...examples(path),
      ...docs(path),
    ];
  }
  const args = (command.args ?? []).map((a) =>
    a.rest ? `[--] ${a.name}...` : a.default === undefined && !a.optional ? a.name : `[${a.name}]`,
  );
  const flagRows = Object.entries(command.flags ?? {}).map(([name, f]) => flagRow(name, f));
  flagRows.push(["-h, --help", "show this help"]);
  return [
    `Usage: ${[full, "[options]", ...args].join(" ")}`,
    "",
    command.summary,
    ...(command.args?.length
      ? [
          "",
          "Arguments:",
          ...rows(
            command.args.map((a) => [
              a.name,
              a.default === undefined ? a.help : `${a.help} (default: "${a.default}")`,
            ]),
          ),
        ]
      : []),
    "",
    "Options:",
    ...rows(flagRows),
    ...examples(path),
    ...docs(path),
  ];
}

/** `(run 'portctl allocate --help' for usage)`: the line under a usage error. */
export function usageHint(names: string[]): string {
  return `(run '${["portctl", ...names, "--help"].join(" ")}' for usage)`;
}

// --- internal ---

function rootHelp(table: CommandSpec[]): string[] {
  return [
    "Usage: portctl <command> [options]",
    "",
    DESCRIPTION,
    "",
    "Options:",
    ...rows(Object.entries(ROOT_FLAGS).map(([name, f]) => flagRow(name, f))),
    "",
    "Commands:",
    ...rows([
      ...table.map((c): [string, string] => [c.name, c.summary]),
      ["help [command]", "show help for a command"],
    ]),
    "",
    "Environment:",
    ...rows([
      [ENV.addr, `server address (default ${DEFAULT_HOST}:${DEFAULT_PORT})`],
      [ENV.home, `state folder (default ~/${STATE_DIR_NAME})`],
      ["NO_COLOR", "disable colour"],
    ]),
    ...examples([]),
    "",
    `Documentation: ${DOCS_URL} (CLI, run and Compose, agents, HTTP API, security, configuration)`,
  ];
}

/** The command's examples, under a heading of their own (none: nothing). */
function examples(path: CommandSpec[]): string[] {
  const lines = EXAMPLES[path.map((c) => c.name).join(" ")] ?? [];
  return lines.length ? ["", "Examples:", ...lines.map((l) => `  $ ${l}`)] : [];
}

/** The last line: the page that documents the command (its group's, for a subcommand). */
function docs(path: CommandSpec[]): string[] {
  return ["", `Docs: ${docsUrl(path[0]?.name ?? "")}`];
}

function flagRow(name: string, flag: Flag): [string, string] {
  const label = `${flag.short ? `-${flag.short}, ` : ""}${flagLabel(name, flag)}`;
  const extras = [
    flag.choices ? `choices: ${flag.choices.join(", ")}` : "",
    flag.default !== undefined ? `default: ${JSON.stringify(flag.default)}` : "",
  ].filter(Boolean);
  return [label, extras.length ? `${flag.help} (${extras.join("; ")})` : flag.help];
}

/** Two columns, the second aligned; indented by two spaces. */
function rows(items: [string, string][]): string[] {
  const width = Math.max(...items.map(([left]) => left.length));
  return items.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
