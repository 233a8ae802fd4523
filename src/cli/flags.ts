// Flag value converters for commander: each turns a string into the value a command gets, or
// throws commander's InvalidArgumentError with one sentence (commander names the flag).
import { InvalidArgumentError } from "commander";

export function parseName(value: string): string {
  // zod loads only when a name flag is given: `portctl check` should not pay for it.
  const { nameSchema, parseOrThrow } =
    require("../core/model.ts") as typeof import("../core/model.ts");
  try {
    return parseOrThrow(nameSchema, value);
  } catch (err) {
    throw invalid((err as Error).message);
  }
}

export function portParser(allowZero: boolean) {
  return (value: string): number => {
    const n = /^\d{1,5}$/.test(value.trim()) ? Number(value) : Number.NaN;
    if ((allowZero && n === 0) || (n >= 1 && n <= 65535)) return n;
    throw invalid(`must be an integer between ${allowZero ? 0 : 1} and 65535`);
  };
}

export function parseId(value: string): number {
  const n = /^\d{1,15}$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (n >= 1) return n;
  throw invalid("must be a positive integer");
}

// --- internal ---

/** Commander prints "argument 'x' is invalid." before this: a sentence of its own. */
function invalid(reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`);
}
