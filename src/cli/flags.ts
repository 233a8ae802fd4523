// Flag value converters: each turns the text of a flag into the value a command gets, or throws
// an Error whose message says why (the parser names the flag and the text).
// Shared flag rows live here too, so every command describes --app or --json the same way.
import { DEFAULT_RANGE, formatRange, isPort, MAX_BLOCK } from "../core/config.ts";
import type { Flag } from "./spec.ts";

/** `env --format`: here, with the flags, so the command table does not load envfile.ts. */
export const ENV_FORMATS = ["dotenv", "export", "json"] as const;

export function parseName(value: string): string {
  // zod loads only when a name flag is given: `portctl check` should not pay for it.
  const { nameSchema, parseOrThrow } =
    require("../core/fields.ts") as typeof import("../core/fields.ts");
  return parseOrThrow(nameSchema, value);
}

function portParser(allowZero: boolean) {
  return (value: string): number => {
    const n = digits(value, 5);
    if ((allowZero && n === 0) || isPort(n)) return n;
    throw new Error(`must be an integer between ${allowZero ? 0 : 1} and 65535`);
  };
}

export function parseId(value: string): number {
  const n = digits(value, 15);
  if (n >= 1) return n;
  throw new Error("must be a positive integer");
}

/** `scan --depth N`: folder levels below the scanned folder, 0 (that folder only) to 64. */
export function parseDepth(value: string): number {
  const n = digits(value, 2);
  if (n >= 0 && n <= 64) return n;
  throw new Error("must be an integer between 0 and 64");
}

/** `run --env VAR`: a name a shell and a dev server can read. */
export function parseVarName(value: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return value;
  throw new Error("must be a variable name (letters, digits and _, not starting with a digit)");
}

export function parsePid(value: string): number {
  const n = digits(value, 10);
  if (n >= 1 && n <= 2 ** 31 - 1) return n;
  throw new Error("must be a process id (a positive integer)");
}

/** `allocate --count N`: a block of 1 to MAX_BLOCK contiguous ports. */
export function parseCount(value: string): number {
  const n = digits(value, 4);
  if (n >= 1 && n <= MAX_BLOCK) return n;
  throw new Error(`must be an integer between 1 and ${MAX_BLOCK}`);
}

/** An agent session's id (core/fields.ts sessionIdSchema's rule, without loading zod). */
export function parseSessionId(value: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(value)) return value;
  throw new Error("must be a session id: letters, digits, '.', '_', ':', '-' (1-128)");
}

/** `30m`, `3h`, `1d`, `2w`: checked here, sent to the server as written. */
export function parseDuration(value: string): string {
  const v = value.trim();
  if (/^\d{1,6}[smhdw]$/.test(v)) return v;
  throw new Error("must be a duration such as 30m, 3h, 1d or 2w");
}

/** The flags several commands share, described once. */
export const FLAGS = {
  app: {
    value: "<name>",
    help: "application name (default: git repo or folder name)",
    convert: parseName,
  },
  instance: {
    value: "<name>",
    help: "instance name (default: worktree folder, else git branch, else 'default')",
    convert: parseName,
  },
  service: { value: "<name>", help: "service name", convert: parseName },
  json: { help: "print the API's JSON instead of text (errors too)" },
  /** `--port` of a command that asks about one given port. */
  port: { value: "<number>", help: "port number", convert: portParser(false) },
  /** `--port` where 0 means "the server picks". */
  portOrAuto: {
    value: "<number>",
    help: `a specific port; 0 = auto-assign from the server's range (${formatRange(DEFAULT_RANGE)})`,
    convert: portParser(true),
    default: 0,
  },
} as const satisfies Record<string, Flag>;

/**
 * The number written as 1 to `max` decimal digits (spaces around allowed), else NaN. By hand,
 * not a regex: `portctl check --port N` converts one on every call, and a cold start pays for
 * each regex it compiles.
 */
function digits(value: string, max: number): number {
  const text = value.trim();
  if (text.length === 0 || text.length > max) return Number.NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
  }
  return Number(text);
}
