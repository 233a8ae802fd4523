// What a command is, as data: the table in commands/index.ts is made of these. The parser
// (parse.ts), the help (help.ts) and completions read only this, never a handler's code.
import type { Io } from "./io.ts";

/** A command's function: converted options in, exit code out (STYLE: plain functions). */
// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own option type
export type Handler = (opts: any, io: Io) => Promise<number>;

export interface Flag {
  /** One letter: `q` makes `-q` the same as the long flag. */
  short?: string;
  /** The value's placeholder (`<name>`); without it the flag is a switch (true when given). */
  value?: string;
  help: string;
  /** Turns the text into the handler's value, or throws an Error whose message says why. */
  convert?: (text: string) => unknown;
  /** The only values accepted (checked before `convert`). */
  choices?: readonly string[];
  required?: boolean;
  /** What the handler gets when the flag is not given. */
  default?: unknown;
  /** Giving this flag sets these options; giving one of them another value is an error. */
  implies?: Record<string, unknown>;
  /** May be given more than once: the handler gets every value, in order, as an array. */
  repeatable?: boolean;
}

export interface Arg {
  name: string;
  help: string;
  /** Given: the argument is optional, and this is its value when left out. */
  default?: string;
  /** Optional with no value when left out: the handler decides (`scan`: the repository's top). */
  optional?: boolean;
  /**
   * The last argument takes everything from the first positional on, as an array, flags
   * included: `portctl run vite --port 4000` gives vite its own `--port` (and `--help`).
   */
  rest?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line, lower case, no full stop: shown in `portctl --help` and above its own help. */
  summary: string;
  /** Long name (without `--`) → flag. The handler gets `opts[camelCase(name)]`. */
  flags?: Record<string, Flag>;
  /** Positional arguments, in order; the handler gets `opts[name]`. */
  args?: Arg[];
  /** Loads the handler's module only when this command runs: `check` never pays for `scan`. */
  load?: () => Promise<Handler>;
  /** A group such as `skill`: `portctl skill install`. */
  subcommands?: CommandSpec[];
}

/** `lease-pid` → `leasePid`: the key a handler's options use. */
export function optionKey(flag: string): string {
  // By hand: the first String#replace with a callback costs a cold start ~0.1 ms (see parse.ts).
  if (!flag.includes("-")) return flag;
  let key = "";
  for (let i = 0; i < flag.length; i++) {
    const ch = flag[i] as string;
    const next = flag[i + 1];
    if (ch === "-" && next !== undefined && next >= "a" && next <= "z") {
      key += next.toUpperCase();
      i++;
    } else key += ch;
  }
  return key;
}

/** `--service <name>` */
export function flagLabel(name: string, flag: Flag): string {
  return flag.value ? `--${name} ${flag.value}` : `--${name}`;
}
