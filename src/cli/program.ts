// argv → command functions. The parser only converts and checks flags; every decision lives
// in the command functions, which tests call directly.
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_RANGE, ENV, formatRange } from "../core/config.ts";
import { errorBody, PortError } from "../core/errors.ts";
import { versionLine } from "../core/version.ts";
import { ENV_FORMATS } from "./envfile.ts";
import { CLI_ERRORS } from "./errors.ts";
import { parseId, parseName, portParser } from "./flags.ts";
import type { Io } from "./io.ts";
import { colors, safe } from "./output.ts";

// biome-ignore lint/suspicious/noExplicitAny: each command has its own option type
type CommandFn = (opts: any, io: Io) => Promise<number>;
/** How an action is carried out; the skill drift test swaps in one that runs nothing. */
export type Runner = (fn: CommandFn, opts: Record<string, unknown>) => Promise<number>;

/** Runs the CLI and returns the exit code; never exits and never throws. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let code = 0;
  const program = buildProgram(
    io,
    async (fn, opts) => {
      code = await fn(opts, io);
      return code;
    },
    argv[0],
  );
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    return report(err, io, argv.includes("--json"));
  }
}

/** `invoked`: the command argv names, if any, so that only it is built. */
export function buildProgram(io: Io, run: Runner, invoked?: string): Command {
  // Commander echoes what was typed (`unknown option '…'`): escaped line by line.
  const write = (fn: (line: string) => void) => (s: string) =>
    fn(s.replace(/\n$/, "").split("\n").map(safe).join("\n"));
  const program = new Command("portctl")
    .description("Ask the local port registry for ports instead of guessing numbers.")
    .version(versionLine("portctl"), "-V, --version", "print version, commit and build date")
    .configureOutput({ writeOut: write(io.out), writeErr: write(io.err) })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .allowExcessArguments(false);
  // Each command's module (and what it needs: zod, yaml, the scanner…) loads only when that
  // command runs: `portctl check` should not pay for `portctl scan`.
  const action = (load: () => Promise<CommandFn>) => async (opts: Record<string, unknown>) =>
    void (await run(await load(), opts));
  const names = {
    app: () =>
      new Option("--app <name>", "application name (default: git repo or folder name)").argParser(
        parseName,
      ),
    instance: () =>
      new Option(
        "--instance <name>",
        "instance name (default: worktree folder, else git branch, else 'default')",
      ).argParser(parseName),
    service: (required: boolean) =>
      new Option(
        "--service <name>",
        required ? "service name (required)" : "service name",
      ).argParser(parseName),
  };
  const json = () => new Option("--json", "print the API's JSON instead of text");

  // name, description, and how to fill in its options: built only when needed (see below).
  const commands: [string, string, (cmd: Command) => unknown][] = [
    [
      "start",
      "start the port-server daemon in the background",
      (c) => c.action(action(() => import("./commands/daemon.ts").then((m) => m.start))),
    ],
    [
      "stop",
      "stop the running daemon",
      (c) => c.action(action(() => import("./commands/daemon.ts").then((m) => m.stop))),
    ],
    [
      "restart",
      "stop (if running) and start the daemon",
      (c) => c.action(action(() => import("./commands/daemon.ts").then((m) => m.restart))),
    ],
    [
      "status",
      "show whether the daemon is running (always exits 0)",
      (c) =>
        c
          .addOption(json())
          .action(action(() => import("./commands/daemon.ts").then((m) => m.status))),
    ],
    [
      "allocate",
      "allocate a port for a service",
      (c) =>
        c
          .addOption(names.app())
          .addOption(names.instance())
          .addOption(names.service(true).makeOptionMandatory())
          .addOption(
            new Option(
              "--port <number>",
              `a specific port; 0 = auto-assign from the server's range (${formatRange(DEFAULT_RANGE)})`,
            )
              .argParser(portParser(true))
              .default(0),
          )
          .option("--reuse", "return the existing allocation of this service instead of failing")
          .option("-q, --quiet", "print only the port number")
          .addOption(json())
          .action(action(() => import("./commands/allocate.ts").then((m) => m.allocate))),
    ],
    [
      "release",
      "release allocations by id, or by filter (AND-ed)",
      (c) =>
        c
          .addOption(new Option("--id <number>", "release one allocation by id").argParser(parseId))
          .addOption(
            new Option(
              "--app <name>",
              "filter by application (default: this checkout's app and instance, unless --port)",
            ).argParser(parseName),
          )
          .addOption(
            new Option(
              "--instance <name>",
              "filter by instance (default: this checkout's, unless --app or --port)",
            ).argParser(parseName),
          )
          .addOption(names.service(false))
          .addOption(
            new Option("--port <number>", "release the allocation of this port").argParser(
              portParser(false),
            ),
          )
          .addOption(json())
          .action(action(() => import("./commands/release.ts").then((m) => m.release))),
    ],
    [
      "list",
      "list allocations of the current app (--all: every app)",
      (c) =>
        c
          .addOption(names.app())
          .addOption(new Option("--instance <name>", "filter by instance").argParser(parseName))
          .addOption(names.service(false))
          .option("--all", "every app, not just the current one")
          .addOption(json())
          .action(action(() => import("./commands/list.ts").then((m) => m.list))),
    ],
    [
      "check",
      "exit 0 if a port is free, 1 if it is taken",
      (c) =>
        c
          .addOption(
            new Option("--port <number>", "port to check (required)")
              .argParser(portParser(false))
              .makeOptionMandatory(),
          )
          .addOption(json())
          .action(action(() => import("./commands/check.ts").then((m) => m.check))),
    ],
    [
      "env",
      "print the current app/instance's ports as SERVICE_PORT=N lines",
      (c) =>
        c
          .addOption(names.app())
          .addOption(names.instance())
          .addOption(
            new Option("--format <format>", "output format").choices(ENV_FORMATS).default("dotenv"),
          )
          .addOption(
            new Option(
              "--write <file>",
              "update these keys in a .env file, keeping every other line",
            ),
          )
          .addOption(new Option("--json", "the same as --format json").implies({ format: "json" }))
          .action(action(() => import("./commands/env.ts").then((m) => m.env))),
    ],
    [
      "scan",
      "find host-bound ports in Compose files, .env files and package.json scripts",
      (c) =>
        c
          .argument("[dir]", "project folder", ".")
          .option(
            "--register",
            "allocate each port found for the current app/instance (reusing existing ones)",
          )
          .addOption(names.app())
          .addOption(names.instance())
          .addOption(json())
          .action(async (dir: string, opts: Record<string, unknown>) => {
            await run(await import("./commands/scan.ts").then((m) => m.scan), { ...opts, dir });
          }),
    ],
    [
      "health",
      "exit 0 if the server answers, 1 otherwise",
      (c) =>
        c
          .addOption(json())
          .action(action(() => import("./commands/health.ts").then((m) => m.health))),
    ],
    [
      "version",
      "print version, commit and build date",
      (c) => c.action(action(() => import("./commands/health.ts").then((m) => m.version))),
    ],
    [
      "skill",
      "the port-manager agent skill",
      (c) =>
        sub(
          c,
          "install",
          "install the skill into .claude/skills/ (or --global: ~/.claude, ~/.codex, ~/.agents)",
        )
          .option("--global", "install for every agent platform found in your home folder")
          .action(action(() => import("./commands/skill.ts").then((m) => m.skillInstall))),
    ],
  ];
  // Building every command costs a cold process about 2 ms, most of `portctl check`'s own time;
  // when argv names a command, only that one is built. Help, unknown commands and the rest get
  // them all (for the listing and the "did you mean" suggestions).
  const only = commands.some(([name]) => name === invoked) ? invoked : undefined;
  for (const [name, description, define] of commands) {
    if (!only || name === only) define(sub(program, name, description));
  }

  program.addHelpText(
    "after",
    `\nEnvironment:\n  ${ENV.addr}  server address (default 127.0.0.1:51234)\n  ${ENV.home}  state folder (default ~/.port_server)\n  NO_COLOR          disable colour`,
  );
  return program;
}

// --- internal ---

function sub(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .showHelpAfterError(
      `(run 'portctl ${parent.name() === "portctl" ? "" : `${parent.name()} `}${name} --help' for usage)`,
    )
    .allowExcessArguments(false);
}

/** Turns any failure into one line on stderr and an exit code. */
function report(err: unknown, io: Io, json: boolean): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (and help, for --help / --version).
    return err.exitCode === 0 ? 0 : 1;
  }
  const c = colors(io);
  if (err instanceof PortError) {
    const entry = CLI_ERRORS[err.code];
    // With --json a script reads stdout: it gets the error as the API shapes it, too.
    if (json) io.out(JSON.stringify(errorBody(err), null, 2));
    // Messages carry server replies, paths and file contents: escaped as a whole.
    io.err(`${c.red("error:")} ${safe(entry.line(err))}`);
    return entry.exit;
  }
  io.err(`${c.red("error:")} ${safe(err instanceof Error ? err.message : String(err))}`);
  return 1;
}
