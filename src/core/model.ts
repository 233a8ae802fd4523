// The shapes that cross a boundary (HTTP bodies and queries, CLI flags), as zod schemas with
// their inferred types. The server validates with these; the CLI uses the types, and loads the
// schemas at run time only to check a name flag (cli/flags.ts), so `portctl check` never loads zod.
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { MAX_NAME_LENGTH, MAX_PATH_LENGTH } from "./config.ts";
import { ERROR_CODES, type ErrorCode, PortError } from "./errors.ts";

// C0/C1 controls (what is left once the edges' whitespace is trimmed), and the bidirectional
// overrides and isolates (U+200E/F, U+202A–E, U+2066–9) that would make a name print as
// something else in a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// What no one can see: format characters (Cf: zero-width U+200B–D, U+2060, U+FEFF, U+00AD, tags
// U+E0000–7F, U+061C, U+180E, U+FFF9–B…), line and paragraph separators, and every other
// default-ignorable code point (U+3164, variation selectors). Two names that look the same must
// be the same name, and an invisible suffix must not ride along to agents.
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

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
  pattern: namePattern(
    CONTROL.source.slice(1, -1) + INVISIBLE.source.slice(1, -1),
    MAX_NAME_LENGTH,
  ),
  // The lengths are in the pattern, after the edges: maxLength would count the trimmed spaces.
  minLength: undefined,
  maxLength: undefined,
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

export const allocationSchema = z.object({
  id: z.number().int().positive(),
  app: z.string(),
  instance: z.string(),
  service: z.string(),
  port: z.number().int().min(1).max(65535),
  created_at: z.string().describe("RFC 3339 UTC, e.g. 2025-02-08T15:04:05Z"),
  checkout: z
    .string()
    .nullable()
    .describe("absolute path of the worktree the allocation was made from; null when unknown"),
  last_seen: z
    .string()
    .nullable()
    .describe("when the daemon last saw the port listening (RFC 3339, at most a minute stale)"),
  lease_pid: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe("the process whose exit releases the allocation; null when not leased"),
  lease_started_at: z
    .string()
    .nullable()
    .describe("start time of the lease process, so a reused PID does not keep the lease"),
});
export type Allocation = z.infer<typeof allocationSchema>;

export const EVENT_KINDS = [
  "allocated",
  "released",
  "taken_over",
  "pruned",
  "lease_ended",
  "imported",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One change to the registry, as the history records it. */
export const eventSchema = z.object({
  id: z.number().int().positive(),
  at: z.string().describe("RFC 3339 UTC"),
  kind: z.enum(EVENT_KINDS),
  app: z.string(),
  instance: z.string(),
  service: z.string(),
  port: z.number().int(),
  checkout: z.string().nullable().describe("the allocation's checkout at the time"),
  pid: z.number().int().nullable().describe("the client's process (or the lease's), when known"),
  reason: z.string(),
});
export type PortEvent = z.infer<typeof eventSchema>;

/** Whether a process on this machine listens on a port, and which, where the OS lets us see. */
export const systemUseSchema = z.object({
  in_use: z.boolean(),
  pid: z.number().int().optional(),
  process: z.string().optional(),
});
export type SystemUse = z.infer<typeof systemUseSchema>;

export const portStatusSchema = z.object({
  port: z.number().int(),
  available: z.boolean().describe("false when allocated or bound by a process"),
  holder: allocationSchema.optional(),
  system: systemUseSchema,
  last_event: eventSchema
    .optional()
    .describe(
      "when no allocation holds the port: the newest change recorded for it (who had it last, and when)",
    ),
});
export type PortStatus = z.infer<typeof portStatusSchema>;

/** Fields a release before v2 did not have may be missing (`list --json` of the first release). */
export const importRowSchema = z.object({
  id: z.number().int().positive().optional(),
  app: documentedName,
  instance: documentedName,
  service: documentedName,
  port: portSchema,
  created_at: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, {
    error: "must be an RFC 3339 UTC time such as 2025-02-08T15:04:05Z",
  }),
  checkout: checkoutSchema().nullable().optional(),
  last_seen: z.string().nullable().optional(),
  lease_pid: z.number().int().positive().nullable().optional(),
  lease_started_at: z.string().nullable().optional(),
});
export const importRequestSchema = z.array(importRowSchema, {
  error: "must be a JSON array of allocations (what portctl export writes)",
});
export type ImportRow = z.infer<typeof importRowSchema>;

export const importConflictSchema = z.object({
  allocation: importRowSchema,
  holder: allocationSchema.optional().describe("absent when the file itself repeats the row"),
  reason: z.string(),
});
export type ImportConflict = z.infer<typeof importConflictSchema>;

/**
 * The fields an error of each code carries besides `error` and `code`, one row per code, so
 * the API's document, the server's bodies and `portctl --json` agree on them. `holder` is
 * absent only when the conflicting allocation was released in the same instant.
 */
export const errorDetailShapes = {
  bad_request: {},
  forbidden: {},
  not_found: {},
  method_not_allowed: {},
  payload_too_large: {},
  unsupported_media_type: {},
  port_allocated: { holder: allocationSchema.optional() },
  service_allocated: { holder: allocationSchema.optional() },
  port_in_use: { port: z.number().int().min(1).max(65535), system: systemUseSchema },
  range_exhausted: {},
  other_checkout: {
    holder: allocationSchema,
    checkout: z.string().describe("the caller's checkout"),
  },
  import_conflict: { conflicts: z.array(importConflictSchema) },
  storage: {},
  filesystem: { path: z.string() },
  unreachable: {},
  daemon: {},
  internal: {},
} as const satisfies Record<ErrorCode, z.ZodRawShape>;

/** The JSON body of an error of one code: exactly these fields, nothing else. */
export function errorSchemaOf<C extends ErrorCode>(code: C) {
  return z.strictObject({
    error: z.string().describe("one line for a person"),
    code: z.literal(code),
    ...errorDetailShapes[code],
  });
}

/** Any error body, told apart by `code`. */
export const errorSchema = z.discriminatedUnion(
  "code",
  ERROR_CODES.map((code) => errorSchemaOf(code)) as unknown as [
    ReturnType<typeof errorSchemaOf>,
    ...ReturnType<typeof errorSchemaOf>[],
  ],
);
export type ErrorBody = z.infer<typeof errorSchema>;

/** `port` 0 or omitted means "pick one for me". */
export const allocateRequestSchema = z.strictObject(
  {
    app: documentedName,
    instance: documentedName,
    service: documentedName,
    port: z
      .union([z.literal(0), portSchema], { error: "must be an integer between 1 and 65535" })
      .optional(),
    checkout: checkoutSchema().nullable().optional(),
    lease_pid: pidSchema.optional(),
  },
  { error: unknownKeys },
);
export type AllocateRequest = z.infer<typeof allocateRequestSchema>;

/** Strict: a misspelt field (`"instanc"`) must not widen a delete to the whole app. */
export const filterSchema = z
  .strictObject(
    {
      app: documentedName.optional(),
      instance: documentedName.optional(),
      service: documentedName.optional(),
      port: portSchema.optional(),
    },
    { error: unknownKeys },
  )
  .refine((f) => Object.values(f).some((v) => v !== undefined), {
    error: "at least one of app, instance, service, port is required",
  })
  .meta({ minProperties: 1 });
export type Filter = z.infer<typeof filterSchema>;

export const listQuerySchema = z.strictObject(
  {
    app: anyWhenEmpty(documentedName),
    instance: anyWhenEmpty(documentedName),
    service: anyWhenEmpty(documentedName),
    port: anyWhenEmpty(portTextSchema()),
  },
  { error: unknownKeys },
);
export type ListQuery = z.infer<typeof listQuerySchema>;

/**
 * A decimal id: digits only (no sign, exponent, "+" or leading zero), at most 15 so it is an
 * exact integer.
 */
export const idParamSchema = z
  .string()
  .regex(/^[1-9]\d{0,14}$/, { error: "must be a positive integer" })
  .transform(Number);

export const portParamSchema = portTextSchema();

/** `2025-02-08T15:04:05Z`: RFC 3339, UTC, whole seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A query flag: exactly `true` or `false`; absent is false. */
const flagSchema = z
  .enum(["true", "false"], { error: "must be true or false" })
  .transform((v) => v === "true")
  .optional();

export const healthQuerySchema = z.strictObject(
  {
    check: z
      .enum(["integrity"], { error: "must be integrity" })
      .describe("`integrity` also runs the database's quick_check (reads every page)")
      .optional(),
  },
  { error: unknownKeys },
);

export const allocateQuerySchema = z.strictObject(
  {
    reuse: flagSchema.describe("return the existing allocation of this service (200)"),
    adopt: flagSchema.describe("record an explicit port even if a process listens on it"),
  },
  { error: unknownKeys },
);

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
function namePattern(refused: string, max: number): string {
  const edge = "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]*";
  const solid = `[^\\s${refused}]`;
  return `^${edge}${solid}(?:[^${refused}]{0,${max - 2}}${solid})?${edge}$`;
}
