// The usage errors of the parser, each naming what was typed and, when one is close, what was
// probably meant. What was typed is escaped (output.ts `safe`): it cannot drive the terminal.
import { PortError } from "../core/errors.ts";
import { safe } from "./output.ts";
import type { CommandSpec, Flag } from "./spec.ts";
import { closest, didYouMean } from "./suggest.ts";

/** A mistake in argv. `path` is the command it concerns, for the usage hint. */
export class UsageError extends PortError {
  constructor(
    message: string,
    readonly path: string[],
  ) {
    super("bad_request", message);
  }
}

/** `'text'`, escaped so that what was typed cannot drive the terminal. */
export function quoted(text: string): string {
  return `'${safe(text)}'`;
}

/** `--servce` (did you mean --service?); `-s` for the one long flag starting with s. */
export function unknownFlag(written: string, names: string[], flags: Record<string, Flag>) {
  const longs = [...Object.keys(flags), "help"];
  // `-s` for `--service`: the one long flag starting with that letter, if there is just one.
  const guess = written.startsWith("--")
    ? closest(written.slice(2), longs)
    : onlyOne(longs.filter((n) => n.startsWith(written.slice(1, 2))));
  const suggestion = guess === undefined ? undefined : `--${guess}`;
  return new UsageError(`unknown option ${quoted(written)}${didYouMean(suggestion)}`, names);
}

/** `lsit` (did you mean list?) */
export function unknownCommand(name: string, commands: CommandSpec[], path: CommandSpec[]) {
  const candidates = commands.map((c) => c.name);
  if (path.length === 0) candidates.push("help");
  return new UsageError(
    `unknown command ${quoted(name)}${didYouMean(closest(name, candidates))}`,
    path.map((c) => c.name),
  );
}

/** `allocate web`: most likely the value of the required flag that is still missing. */
export function strayArgument(
  text: string,
  command: CommandSpec,
  given: Map<string, string | true | string[]>,
  names: string[],
): UsageError {
  const missing = Object.entries(command.flags ?? {}).filter(
    ([n, f]) => f.required && f.value && !given.has(n),
  );
  if (missing.length === 1) {
    const hint = `--${missing[0]?.[0]} ${text}`;
    return new UsageError(`unexpected argument ${quoted(text)}${didYouMean(hint)}`, names);
  }
  const max = command.args?.length ?? 0;
  const takes = max === 0 ? "no arguments" : `at most ${max} argument${max === 1 ? "" : "s"}`;
  return new UsageError(
    `unexpected argument ${quoted(text)}: portctl ${names.join(" ")} takes ${takes}`,
    names,
  );
}

// --- internal ---

function onlyOne<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}
