// The shapes that cross a boundary (HTTP bodies and queries, CLI flags), as zod schemas with
// their inferred types. The server validates with these; the CLI uses the types, and loads the
// schemas at run time only to check a name flag (cli/flags.ts), so `portctl check` never loads zod.
import { z } from "zod";
import { MAX_BLOCK } from "./config.ts";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";
import {
  anyWhenEmpty,
  checkoutSchema,
  documentedName,
  pidSchema,
  portSchema,
  portTextSchema,
  serviceNameSchema,
  sessionIdSchema,
  unknownKeys,
} from "./fields.ts";
import { CHOSEN_NAME, MAX_CHOSEN_LENGTH } from "./names.ts";

// Names, ports, checkouts and parseOrThrow live in fields.ts; importers keep one entry point.
export * from "./fields.ts";

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
  block_id: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe(
      "the block of contiguous ports this one belongs to (allocated and released together); null for a single port",
    ),
  lease_session: z
    .string()
    .nullable()
    .describe(
      "the agent session holding the allocation until it ends (DELETE /v1/sessions/{id}), its heartbeat stops or its checkout disappears; null when none",
    ),
  name: z
    .string()
    .describe(
      "the allocation's hostname under .localhost (web.shop.localhost), unique, fixed while it lives",
    ),
  url: z
    .string()
    .nullable()
    .describe(
      "the name through the daemon's proxy (http://web.shop.localhost:2080) when the service serves HTTP; null otherwise, or while no proxy listens",
    ),
  ...ownerShape(),
});
export type Allocation = z.infer<typeof allocationSchema>;

/**
 * A row as the store holds it: whose it is (the uid; null for the daemon's own user, which is
 * what every row from before owners were recorded is). The API never sends the uid: it sends
 * `owner` and, to anyone but the owner and the registry's admins, `hidden` (see server/views.ts).
 */
export type Row = Allocation & { owner_uid: number | null };

export const EVENT_KINDS = [
  "allocated",
  "released",
  "taken_over",
  "pruned",
  "lease_ended",
  "imported",
  "project_allocated",
  "project_released",
  "project_taken_over",
  "project_pruned",
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
  project: z
    .string()
    .nullable()
    .describe("the Compose project name of a project_* event (its port is 0); null otherwise"),
  ...ownerShape(),
});
export type PortEvent = z.infer<typeof eventSchema>;
export type EventRow = PortEvent & { owner_uid: number | null };

/** A container publishing a port, as its engine described it (untrusted text: escape it). */
export const containerSchema = z.object({
  id: z.string().describe("the container's id"),
  name: z.string().describe("its name"),
  project: z.string().optional().describe("its Compose project (com.docker.compose.project)"),
  working_dir: z
    .string()
    .optional()
    .describe("the Compose project's folder (com.docker.compose.project.working_dir)"),
  service: z.string().optional().describe("its Compose service (com.docker.compose.service)"),
});
export type Container = z.infer<typeof containerSchema>;

/** Whether a process on this machine listens on a port, and which, where the OS lets us see. */
export const systemUseSchema = z.object({
  in_use: z.boolean(),
  pid: z.number().int().optional(),
  process: z.string().optional(),
  container: containerSchema
    .optional()
    .describe(
      "when the process is a container engine's proxy: the container publishing the port, if the engine answered in time",
    ),
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

/**
 * A Compose project name as Compose itself accepts one (the specification's rule: lower-case
 * letters, digits, `-` and `_`, starting with a letter or digit).
 */
export const projectNameSchema = z
  .string({ error: "must be a string" })
  .regex(/^[a-z0-9][a-z0-9_-]{0,127}$/, {
    error:
      "must be a Compose project name: lower-case letters, digits, - and _, starting with a letter or digit, at most 128 characters",
  });

/** A Compose project name held by one checkout (a machine-wide resource, like a host port). */
export const projectSchema = z.object({
  id: z.number().int().positive(),
  name: z.string().describe("the project name Compose runs the checkout's stack under"),
  natural: z
    .string()
    .describe(
      "the name Compose would pick itself in that checkout (folder, .env, top-level name:); equal to name unless another checkout held it",
    ),
  app: z.string(),
  instance: z.string(),
  checkout: z.string().describe("absolute path of the checkout that holds the name"),
  created_at: z.string().describe("RFC 3339 UTC"),
  ...ownerShape(),
});
export type Project = z.infer<typeof projectSchema>;
/** A project as the store holds it: its owner's uid (null: the daemon's own user), #28. */
export type ProjectRow = Project & { owner_uid: number | null };

export const projectRequestSchema = z.strictObject(
  {
    name: projectNameSchema.describe(
      "the name Compose would use: the natural one, or the one the user gave (explicit)",
    ),
    explicit: z
      .boolean({ error: "must be true or false" })
      .describe(
        "the user chose the name (-p, COMPOSE_PROJECT_NAME): used as given or refused, never replaced",
      )
      .optional(),
    force: z
      .boolean({ error: "must be true or false" })
      .describe("take an explicit name over from another checkout that still exists")
      .optional(),
    app: documentedName,
    instance: documentedName,
    checkout: checkoutSchema(),
  },
  { error: unknownKeys },
);
export type ProjectRequest = z.infer<typeof projectRequestSchema>;

export const projectQuerySchema = z.strictObject(
  {
    app: anyWhenEmpty(documentedName),
    instance: anyWhenEmpty(documentedName),
    name: anyWhenEmpty(z.string()),
  },
  { error: unknownKeys },
);
export type ProjectQuery = z.infer<typeof projectQuerySchema>;

/** Fields a release before v2 did not have may be missing (`list --json` of the first release). */
export const importRowSchema = z.object({
  id: z.number().int().positive().optional(),
  app: documentedName,
  instance: documentedName,
  service: serviceNameSchema,
  port: portSchema,
  created_at: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, {
    error: "must be an RFC 3339 UTC time such as 2025-02-08T15:04:05Z",
  }),
  checkout: checkoutSchema().nullable().optional(),
  last_seen: z.string().nullable().optional(),
  lease_pid: z.number().int().positive().nullable().optional(),
  lease_started_at: z.string().nullable().optional(),
  name: z.string().max(300).optional().describe("kept when it is a valid name no other row has"),
  url: z.string().nullable().optional().describe("set: the service serves HTTP"),
  lease_session: sessionIdSchema.nullable().optional(),
  block_id: z
    .number()
    .int()
    .positive()
    .nullable()
    .optional()
    .describe("rows of one block share it; re-numbered on import"),
});
export const importRequestSchema = z.array(importRowSchema, {
  error: "must be a JSON array of allocations (what portctl export writes)",
});
export type ImportRow = z.infer<typeof importRowSchema>;

export const importConflictSchema = z.object({
  // The row as the server took it: a service named with accented letters only (éé) is taken,
  // though the document asks requests for an ASCII letter.
  allocation: importRowSchema.extend({ service: documentedName }),
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
  not_yours: {
    owner: z.string().describe("the user the allocation (or Compose project name) belongs to"),
    port: z.number().int().min(1).max(65535).optional().describe("the allocation's port"),
  },
  not_found: {},
  method_not_allowed: {},
  payload_too_large: {},
  unsupported_media_type: {},
  port_allocated: { holder: allocationSchema.optional() },
  name_taken: { holder: allocationSchema.optional() },
  service_allocated: { holder: allocationSchema.optional() },
  env_key_taken: {
    holder: allocationSchema.describe("the service that has the variable already"),
    key: z.string().describe("the environment variable both names make, e.g. WEB_API_PORT"),
  },
  port_in_use: { port: z.number().int().min(1).max(65535), system: systemUseSchema },
  range_exhausted: {},
  other_checkout: {
    holder: allocationSchema,
    checkout: z.string().describe("the caller's checkout"),
  },
  import_conflict: { conflicts: z.array(importConflictSchema) },
  project_taken: {
    project: projectSchema.describe("the checkout that holds the name"),
    checkout: z.string().describe("the caller's checkout"),
  },
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
    service: serviceNameSchema,
    port: z
      .union([z.literal(0), portSchema], { error: "must be an integer between 1 and 65535" })
      .optional(),
    checkout: checkoutSchema().nullable().optional(),
    lease_pid: pidSchema.optional(),
    count: z
      .number({ error: `must be an integer between 1 and ${MAX_BLOCK}` })
      .int({ error: `must be an integer between 1 and ${MAX_BLOCK}` })
      .min(1, { error: `must be an integer between 1 and ${MAX_BLOCK}` })
      .max(MAX_BLOCK, { error: `must be an integer between 1 and ${MAX_BLOCK}` })
      .describe(
        "a block of this many contiguous ports (all or nothing), each its own row (service, service-2, …) sharing a block_id; port is the first",
      )
      .optional(),
    name: z
      .string({ error: "must be a string" })
      .max(MAX_CHOSEN_LENGTH, { error: `must be at most ${MAX_CHOSEN_LENGTH} characters` })
      .regex(CHOSEN_NAME, {
        error:
          "must be DNS labels (letters, digits, inner hyphens; at most 63 each) separated by dots, such as admin.shop",
      })
      .optional()
      .describe(
        "a name chosen instead of the derived one: DNS labels such as admin.shop (.localhost is added when missing)",
      ),
    http: z
      .boolean({ error: "must be true or false" })
      .optional()
      .describe("the service serves HTTP: it gets a url (a reuse may set it, never clear it)"),
    lease_session: sessionIdSchema
      .describe(
        "hold the allocation for this agent session (reuse moves a session's allocation to it)",
      )
      .optional(),
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
      checkout: checkoutSchema()
        .describe("the checkout the allocations were made in (which may no longer exist)")
        .optional(),
    },
    { error: unknownKeys },
  )
  .refine((f) => Object.values(f).some((v) => v !== undefined), {
    error: "at least one of app, instance, service, port, checkout is required",
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

/** The fields that say whose an allocation (or event) is, when it is not the caller's. */
function ownerShape() {
  return {
    owner: z
      .string()
      .optional()
      .describe("the user it belongs to; present only when that is not the caller"),
    hidden: z
      .literal(true)
      .optional()
      .describe(
        "another user's: only id, port, created_at and owner are real; app, instance and service are empty, checkout and lease null",
      ),
  };
}

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
