// The fields of the shapes that cross a boundary: names (what is refused and how they are
// stored), ports, checkouts, PIDs, and the one parse that turns a zod problem into a one-line
// `bad_request`. model.ts builds the request and answer shapes from these and re-exports them.
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { MAX_NAME_LENGTH, MAX_PATH_LENGTH } from "./config.ts";
import { envKeyProblem } from "./envkey.ts";
import { PortError } from "./errors.ts";
import { CONTROL, INVISIBLE } from "./namerule.ts";

/** Both classes' members, for the document's patterns (inside a character class). */
const REFUSED = CONTROL.source.slice(1, -1) + INVISIBLE.source.slice(1, -1);

/**
 * 1–128 characters after trimming, stored in NFC (so `café` typed precomposed or with a
 * combining accent is one name). Invisible characters are refused anywhere, edges included:
 * they are looked for before trimming, which would quietly drop U+FEFF or U+2028 at an edge.
 */
export const nameSchema = z
  .string({ error: "must be a string" })
  .check((ctx) => {
    const bad = INVISIBLE.exec(ctx.value)?.[0];
    if (bad === undefined) return;
    const cp = (bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `must not contain U+${cp} (an invisible or format character)`,
    });
  })
  .trim()
  .refine((s) => !CONTROL.test(s), { error: "must not contain control characters" })
  // A lone surrogate ("\ud800" in JSON) would be stored as U+FFFD: a different name.
  .refine((s) => s.isWellFormed(), { error: "must be valid Unicode" })
  .normalize("NFC")
  .min(1, { error: "must not be empty" })
  .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters` });

/**
 * nameSchema as the API document states it: the same checks, and a JSON Schema pattern built
 * from the same character classes and length, for clients and fuzzers: whitespace at the edges
 * (it is trimmed), then 1-128 characters, starting and ending on a non-space, with no control,
 * bidi or invisible character anywhere. The pattern counts code points where the server counts
 * UTF-16 units after NFC, so for names outside the BMP (emoji) it is looser; a lone surrogate is
 * refused though not in it.
 */
export const documentedName = nameSchema.meta({
  description: `trimmed, then 1-${MAX_NAME_LENGTH} characters (UTF-16 units, after NFC), none a control, bidi or invisible character`,
  pattern: namePattern(REFUSED, MAX_NAME_LENGTH),
  // The lengths are in the pattern, after the edges: maxLength would count the trimmed spaces.
  minLength: undefined,
  maxLength: undefined,
});

/**
 * A service name: a name that is also an environment variable (envkey.ts), checked when a port
 * is allocated or imported. The document is stricter than the server in two ways it can state
 * without a lookahead: it asks for an ASCII letter or digit (the server also takes a name whose
 * only letters are accented Latin ones, `été` → `ETE_PORT`) and no whitespace at the edges
 * (the server trims it).
 */
export const serviceNameSchema = nameSchema
  .check((ctx) => {
    const problem = envKeyProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
  })
  .meta({
    description: `1-${MAX_NAME_LENGTH} characters, none a control, bidi or invisible character, and at least one ASCII letter or digit (so that it can be an environment variable: web-api → WEB_API_PORT)`,
    pattern: serviceNamePattern(REFUSED),
    minLength: 1,
    maxLength: MAX_NAME_LENGTH,
  });

export const portSchema = z
  .number({ error: "must be an integer between 1 and 65535" })
  .int({ error: "must be an integer between 1 and 65535" })
  .min(1, { error: "must be an integer between 1 and 65535" })
  .max(65535, { error: "must be an integer between 1 and 65535" });

/** An absolute path, normalised (no `..`, no trailing slash), so equal checkouts compare equal. */
export function checkoutSchema() {
  return (
    z
      .string({ error: "must be an absolute path" })
      .max(MAX_PATH_LENGTH, { error: `must be at most ${MAX_PATH_LENGTH} characters` })
      .refine((s) => isAbsolute(s), { error: "must be an absolute path" })
      .refine((s) => !CONTROL.test(s) && s.isWellFormed(), {
        error: "must not contain control characters",
      })
      // The refinements above, as the document states them.
      .meta({
        pattern: `^/[^${CONTROL.source.slice(1, -1)}]*$`,
        description: "an absolute path without control characters",
      })
      .transform((s) => resolve(s))
  );
}

export const pidSchema = z
  .number({ error: "must be a positive integer (a process id)" })
  .int({ error: "must be a positive integer (a process id)" })
  .min(1, { error: "must be a positive integer (a process id)" })
  .max(2 ** 31 - 1, { error: "must be a positive integer (a process id)" });

/**
 * An agent session's id: what Claude Code, Codex and Gemini CLI hand their hooks (UUIDs), or
 * any name a script chooses; safe in a path, a URL and a terminal.
 */
export const sessionIdSchema = z
  .string({ error: "must be a session id: letters, digits, '.', '_', ':', '-' (1-128)" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    error: "must be a session id: letters, digits, '.', '_', ':', '-' (1-128)",
  });

/** 1-65535 in decimal, without leading zeros: what the document states for port text. */
const PORT_TEXT = decimalUpTo(65535);

/**
 * A regex for the decimal integers 1..max, without leading zeros, so that a query or path
 * parameter's pattern in the document says exactly what the server takes.
 */
export function decimalUpTo(max: number): RegExp {
  const digits = String(max);
  const alternatives = digits.length > 1 ? [`[1-9]\\d{0,${digits.length - 2}}`] : [];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    const low = i === 0 ? 1 : 0;
    const rest = digits.length - i - 1;
    const tail = rest ? `\\d{${rest}}` : "";
    if (d > low) alternatives.push(`${digits.slice(0, i)}[${low}-${d - 1}]${tail}`);
  }
  alternatives.push(digits);
  return new RegExp(`^(?:${alternatives.join("|")})$`);
}

/** A port as text (a path or query parameter). */
export function portTextSchema() {
  return z
    .string()
    .regex(PORT_TEXT, { error: "must be an integer between 1 and 65535" })
    .transform(Number)
    .pipe(portSchema);
}

/** Query filters: an empty value (`?app=`) means "no filter", not "empty name". */
export function anyWhenEmpty<T extends z.ZodType<unknown, string>>(s: T) {
  // The empty value first: zod reports the issues of the last option tried, the real rule's.
  return z.union([z.literal("").transform(() => undefined), s]).optional();
}

/** zod's error for a strict object's extra keys, as one line: `unknown field: colour`. */
export function unknownKeys(issue: { code?: string; keys?: string[] }): string | undefined {
  if (issue.code !== "unrecognized_keys" || !issue.keys) return undefined;
  return `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
}

/** Parses with a schema, turning the first problem into a one-line `bad_request` error. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what?: string,
): z.infer<S> {
  // zod 4 leaves `issue.input` out unless asked; describeIssue needs it to tell "missing" from
  // "wrong type" (`{"port": "80"}` is not "port is required").
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new PortError("bad_request", describeIssue(result.error, what));
}

// --- internal ---

function describeIssue(error: z.ZodError, what?: string): string {
  const issue = lastOption(error.issues[0]);
  if (!issue) return "invalid request";
  const path = issue.path.map(String).join(".");
  const subject = path || what;
  if (issue.code === "invalid_type" && issue.input === undefined && path)
    return `${path} is required`;
  return subject ? `${subject} ${issue.message}` : issue.message;
}

/** A union without its own message (anyWhenEmpty) speaks with its last option's first issue. */
function lastOption(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== "invalid_union" || issue.message !== "Invalid input") return issue;
  const inner = issue.errors.at(-1)?.[0];
  return inner ? { ...inner, path: [...issue.path, ...inner.path] } : issue;
}

/**
 * Edge whitespace (what trim removes, less the invisible U+2028/9 and U+FEFF that are refused
 * even there), then `max` characters but `refused` that start and end on a non-space.
 */
/** No edges, an ASCII letter or digit somewhere; the length is the schema's maxLength. */
function serviceNamePattern(refused: string): string {
  const solid = `[^\\s${refused}]`;
  return `^(?:${solid}[^${refused}]*)?[A-Za-z0-9](?:[^${refused}]*${solid})?$`;
}

function namePattern(refused: string, max: number): string {
  const edge = "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]*";
  const solid = `[^\\s${refused}]`;
  return `^${edge}${solid}(?:[^${refused}]{0,${max - 2}}${solid})?${edge}$`;
}
