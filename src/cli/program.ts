// argv → the command table → a handler → an exit code. Every failure is reported here, once:
// one line on stderr, and with --json the same error as one JSON document on stdout.
import { errorBody, PortError } from "../core/errors.ts";
import { COMMANDS } from "./commands/index.ts";
import type { Io } from "./io.ts";
import { colors, safe } from "./output.ts";
import { type Parsed, parseArgv, UsageError } from "./parse.ts";
import type { CommandSpec } from "./spec.ts";

/** Runs the CLI and returns the exit code; never exits and never throws. */
export async function runCli(
  argv: string[],
  io: Io,
  table: CommandSpec[] = COMMANDS,
): Promise<number> {
  try {
    const parsed = parseArgv(argv, table);
    if (parsed.kind === "run") {
      const command = parsed.path[parsed.path.length - 1];
      if (!command?.load) throw new Error(`${command?.name ?? "portctl"} has no handler`);
      const here = parsed.directories ? inDirectory(io, parsed.directories, parsed.path) : io;
      return await (await command.load())(parsed.opts, here);
    }
    await show(parsed, io, table);
    return parsed.kind === "help" && parsed.error ? 1 : 0;
  } catch (err) {
    return report(err, io, wantsJson(argv));
  }
}

// --- internal ---

/** Commands that need only a checkout's recorded path, so -C may name one already deleted. */
const GONE_OK = new Set(["release", "prune", "session"]);

/** `-C DIR` (as git's): the command sees DIR as its working folder. */
function inDirectory(io: Io, directories: string[], path: CommandSpec[]): Io {
  const { resolve } = require("node:path") as typeof import("node:path");
  const { statSync } = require("node:fs") as typeof import("node:fs");
  const cwd = directories.reduce((at, dir) => resolve(at, dir), io.cwd);
  const stat = statSync(cwd, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new PortError("bad_request", `-C ${cwd}: not a folder`);
  if (!stat && !GONE_OK.has(path[0]?.name ?? "")) {
    throw new PortError("bad_request", `-C ${cwd}: no such folder`);
  }
  return { ...io, cwd };
}

async function show(parsed: Exclude<Parsed, { kind: "run" }>, io: Io, table: CommandSpec[]) {
  if (parsed.kind === "version") {
    const { versionLine } = await import("../core/version.ts");
    io.out(versionLine("portctl"));
    return;
  }
  const { helpLines } = await import("./help.ts");
  // Asked for nothing (`portctl`, `portctl skill`): the help is the error message, on stderr.
  const print = parsed.error ? io.err : io.out;
  for (const line of helpLines(parsed.path, table)) print(line);
}

/** `--json` before any `--`: the caller reads stdout, success or failure. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return argv.slice(0, end < 0 ? undefined : end).includes("--json");
}

/** Turns any failure into one line on stderr (plus the usage hint) and an exit code. */
async function report(err: unknown, io: Io, json: boolean): Promise<number> {
  const e =
    err instanceof PortError
      ? err
      : new PortError("internal", err instanceof Error ? err.message : String(err));
  if (json) io.out(JSON.stringify(errorBody(e), null, 2));
  const c = colors(io);
  // Only a failure loads the table of error lines.
  const { CLI_ERRORS, inFlagWords } = await import("./errors.ts");
  const entry = CLI_ERRORS[e.code];
  // Messages carry server replies, paths, file contents and what was typed: escaped as a whole.
  const line =
    err instanceof PortError ? (e.human ?? inFlagWords(e, entry.line(e, io.env.HOME))) : e.message;
  io.err(`${c.red("error:")} ${safe(e.hint ? `${line} — ${e.hint}` : line)}`);
  if (err instanceof UsageError) {
    const { usageHint } = await import("./help.ts");
    io.err(usageHint(err.path));
  }
  return entry.exit;
}
