// argv → which command and its converted options, from the table alone (no library: a cold
// `portctl check` must not pay for one). Problems are reported in a fixed order, so the first
// line names the real mistake: an unknown flag or a stray argument first, then a bad value,
// then a missing required flag (`allocate --servce web` is a typo, not a missing --service).
// Plain loops throughout: in a compiled binary the first call of each of the engine's
// JavaScript-written builtins (find, some, map, flatMap…) costs 15-100 µs, and parsing is on
// every command's path (bench/cli-latency).
import { type CommandSpec, type Flag, flagLabel, optionKey } from "./spec.ts";
import { quoted, strayArgument, UsageError, unknownCommand, unknownFlag } from "./usage.ts";

export { quoted, UsageError } from "./usage.ts";

export type Parsed =
  | {
      kind: "run";
      path: CommandSpec[];
      opts: Record<string, unknown>;
      /** `-C DIR` before the command, in order (each relative to the one before, as git's). */
      directories?: string[];
    }
  /** Help for `path` (empty: portctl itself); `error`: asked for nothing, so exit 1. */
  | { kind: "help"; path: CommandSpec[]; error?: boolean }
  | { kind: "version" };

/** The root's own flags (a command's --help is added to every command). */
export const ROOT_FLAGS: Record<string, Flag> = {
  directory: {
    short: "C",
    value: "<dir>",
    help: "act as if run in <dir> (release and prune also when it no longer exists)",
  },
  version: { short: "V", help: "print version, commit and build date" },
  help: { short: "h", help: "show help" },
};

export function parseArgv(argv: string[], table: CommandSpec[]): Parsed {
  const path: CommandSpec[] = [];
  const directories: string[] = [];
  let commands = table;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (path.length === 0 && isDirectoryFlag(token)) {
      const inline = token.startsWith("--directory=") ? token.slice(12) : token.slice(2);
      const value = token === "-C" || token === "--directory" ? argv[++i] : inline;
      if (value === undefined) throw new UsageError(`${token} needs a folder`, []);
      // As git's: an empty -C changes nothing.
      if (value !== "") directories.push(value);
      continue;
    }
    if (path.length === 0 && token === "help") return helpFor(argv.slice(i + 1), table);
    if (isHelp(token)) return { kind: "help", path };
    if (path.length === 0 && (token === "--version" || token === "-V")) return { kind: "version" };
    if (token.startsWith("-")) throw unknownFlag(token, namesOf(path), ROOT_FLAGS);
    const command = named(commands, token);
    if (!command) throw unknownCommand(token, commands, path);
    path.push(command);
    if (!command.subcommands || runsItself(command, argv[i + 1])) {
      const parsed = parseCommand(argv.slice(i + 1), path);
      return parsed.kind === "run" && directories.length > 0 ? { ...parsed, directories } : parsed;
    }
    commands = command.subcommands;
  }
  return { kind: "help", path, error: true };
}

// --- internal ---

function isDirectoryFlag(token: string): boolean {
  return token.startsWith("-C") || token === "--directory" || token.startsWith("--directory=");
}

/**
 * A group with a handler of its own (`portctl mcp`, beside `portctl mcp install`) runs itself
 * when nothing follows it, or a flag; a word after it names a subcommand.
 */
function runsItself(command: CommandSpec, next: string | undefined): boolean {
  if (!command.load) return false;
  return next === undefined || (next.startsWith("-") && !isHelp(next));
}

function isHelp(token: string): boolean {
  return token === "--help" || token === "-h";
}

/** `portctl help [command…]`: help for that command, or an unknown command named as such. */
function helpFor(names: string[], table: CommandSpec[]): Parsed {
  const path: CommandSpec[] = [];
  let commands: CommandSpec[] | undefined = table;
  for (const name of names) {
    const command: CommandSpec | undefined = commands ? named(commands, name) : undefined;
    if (!command) throw unknownCommand(name, commands ?? [], path);
    path.push(command);
    commands = command.subcommands;
  }
  return { kind: "help", path };
}

/** The leaf command's flags and arguments, checked and converted. */
function parseCommand(argv: string[], path: CommandSpec[]): Parsed {
  const command = path[path.length - 1] as CommandSpec;
  const names = namesOf(path);
  const flags = command.flags ?? {};
  const args = command.args ?? [];
  const rest = args[args.length - 1]?.rest === true;
  const end = ownEnd(argv, rest);
  for (let i = 0; i < (end < 0 ? argv.length : end); i++) {
    if (isHelp(argv[i] as string)) return { kind: "help", path };
  }
  const { given, positionals } = scan(argv, flags, names, rest);
  const stray = rest ? undefined : positionals[args.length];
  if (stray !== undefined) throw strayArgument(stray, command, given, names);
  const opts: Record<string, unknown> = {};
  for (const name of given.keys()) {
    const text = given.get(name) as string | true | string[];
    if (!Array.isArray(text)) {
      opts[optionKey(name)] = convert(name, flags, text, names);
      continue;
    }
    const values: unknown[] = [];
    for (const t of text) values.push(convert(name, flags, t, names));
    opts[optionKey(name)] = values;
  }
  applyImplied(opts, given, flags, names);
  for (const name in flags) {
    const flag = flags[name] as Flag;
    const key = optionKey(name);
    if (key in opts) continue;
    if (flag.required)
      throw new UsageError(`required option '${flagLabel(name, flag)}' not specified`, names);
    if (flag.default !== undefined) opts[key] = flag.default;
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as (typeof args)[number];
    if (arg.rest) {
      if (positionals.length <= i && !arg.optional)
        throw new UsageError(`missing argument '${arg.name}'`, names);
      opts[arg.name] = positionals.slice(i);
      continue;
    }
    const value = positionals[i] ?? arg.default;
    if (value === undefined && arg.optional) continue;
    if (value === undefined) throw new UsageError(`missing argument '${arg.name}'`, names);
    opts[arg.name] = value;
  }
  return { kind: "run", path, opts };
}

/** Where this command's own part of argv ends: its `--`, or with a rest argument its first positional. */
function ownEnd(argv: string[], rest: boolean): number {
  return rest ? argv.findIndex((t) => t === "--" || !t.startsWith("-")) : argv.indexOf("--");
}

/**
 * Splits argv into flags (long name → text, `true` for a switch, every text of a repeatable
 * one) and positionals; with `rest`, everything from the first positional on is positional.
 */
function scan(argv: string[], flags: Record<string, Flag>, names: string[], rest = false) {
  const given = new Map<string, string | true | string[]>();
  const positionals: string[] = [];
  const shorts = new Map<string, string>();
  for (const n in flags) {
    const short = flags[n]?.short;
    if (short) shorts.set(`-${short}`, n);
  }
  const isFlag = (t: string | undefined) => t?.startsWith("--") || shorts.has(t ?? "");
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      if (rest) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(token);
      continue;
    }
    const eq = token.startsWith("--") ? token.indexOf("=") : -1;
    const written = eq < 0 ? token : token.slice(0, eq);
    const name = written.startsWith("--") ? written.slice(2) : shorts.get(written);
    const flag = name === undefined ? undefined : flags[name];
    if (name === undefined || !flag) throw unknownFlag(written, names, flags);
    if (!flag.value) {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`, names);
      given.set(name, true);
      continue;
    }
    const text = eq >= 0 ? token.slice(eq + 1) : argv[i + 1];
    if (text === undefined || (eq < 0 && isFlag(text)))
      throw new UsageError(`option '${flagLabel(name, flag)}' needs a value`, names);
    if (eq < 0) i++;
    const before = given.get(name);
    given.set(name, flag.repeatable ? [...(Array.isArray(before) ? before : []), text] : text);
  }
  return { given, positionals };
}

function convert(
  name: string,
  flags: Record<string, Flag>,
  text: string | true,
  names: string[],
): unknown {
  const flag = flags[name] as Flag;
  if (text === true) return true;
  if (flag.choices && !flag.choices.includes(text)) {
    const list = flag.choices.join(", ");
    throw new UsageError(
      `invalid value ${quoted(text)} for --${name}: choose one of ${list}`,
      names,
    );
  }
  if (!flag.convert) return text;
  try {
    return flag.convert(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UsageError(`invalid value ${quoted(text)} for --${name}: ${why}`, names);
  }
}

/** `--json` on `env` sets `format: json`; an explicit other `--format` contradicts it. */
function applyImplied(
  opts: Record<string, unknown>,
  given: Map<string, string | true | string[]>,
  flags: Record<string, Flag>,
  names: string[],
): void {
  for (const name of given.keys()) {
    const implied = flags[name]?.implies;
    if (!implied) continue;
    for (const [other, value] of Object.entries(implied)) {
      const key = optionKey(other);
      if (given.has(other) && opts[key] !== value) {
        throw new UsageError(
          `--${name} means --${other} ${String(value)}; it cannot be combined with --${other} ${String(opts[key])}`,
          names,
        );
      }
      opts[key] = value;
    }
  }
}

function namesOf(path: CommandSpec[]): string[] {
  const names: string[] = [];
  for (const c of path) names.push(c.name);
  return names;
}

function named(commands: CommandSpec[], name: string): CommandSpec | undefined {
  for (const c of commands) if (c.name === name) return c;
  return undefined;
}
