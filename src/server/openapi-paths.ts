// Every path of the API and its operations: what each accepts and every status it can answer,
// built from the routes' own zod schemas (openapi-parts.ts turns them into JSON Schema).
import { z } from "zod";
import { importResultSchema } from "../core/backup.ts";
import { MAX_IMPORT_BYTES } from "../core/config.ts";
import { eventsQuerySchema } from "../core/events.ts";
import { machineListenerSchema } from "../core/listeners.ts";
import {
  allocateQuerySchema,
  allocateRequestSchema,
  allocationSchema,
  filterSchema,
  healthQuerySchema,
  idParamSchema,
  importRequestSchema,
  listQuerySchema,
  portParamSchema,
  portStatusSchema,
  projectQuerySchema,
  projectRequestSchema,
  projectSchema,
} from "../core/model.ts";
import { pruneRequestSchema, pruneResultSchema } from "../core/prune.ts";
import {
  heartbeatRequestSchema,
  sessionEndSchema,
  sessionIdSchema,
  sessionSchema,
} from "../core/sessions.ts";
import {
  body,
  CLIENT_PID,
  COMMON,
  errorName,
  errors,
  json,
  op,
  pathParameter,
  queryParameters,
  ref,
  schema,
  WITH_BODY,
} from "./openapi-parts.ts";

export const PATHS = {
  "/": {
    get: op(
      "dashboard",
      "The dashboard: an HTML page (its script and stylesheet, /chunk-<hash>.js and .css, are served beside it under the same guards and a strict Content-Security-Policy)",
      {
        200: { description: "the page", content: { "text/html": {} } },
        304: { description: "not modified (If-None-Match names its ETag)" },
        ...errors(COMMON),
      },
    ),
  },
  "/v1/listeners": {
    get: op("listeners", "Every TCP port something listens on, with its process where visible", {
      200: json({ type: "array", items: schema(machineListenerSchema, "output") }, "listeners"),
      ...errors(COMMON),
    }),
  },
  "/healthz": {
    get: {
      ...op("health", "Health check: 200 while the database answers", {
        200: json(
          {
            type: "object",
            properties: {
              status: { const: "ok" },
              uid: { type: "integer", description: "the user the daemon runs as" },
              user: { type: "string", description: "that user's name" },
              integrity: {
                type: "string",
                description: "with check=integrity: `ok`, or what PRAGMA quick_check found",
              },
              proxy: {
                type: "object",
                description:
                  "the names proxy: its port (null when it does not run), setting (auto, off or a port), bound addresses, and a note on why port 80 or any port was not used",
                properties: {
                  port: { type: ["integer", "null"] },
                  setting: {
                    anyOf: [{ type: "string", enum: ["auto", "off"] }, { type: "integer" }],
                  },
                  addresses: { type: "array", items: { type: "string" } },
                  note: { type: "string" },
                },
                required: ["port", "setting", "addresses"],
              },
            },
          },
          "ok",
        ),
        ...errors(["bad_request", ...COMMON]),
      }),
      parameters: queryParameters(healthQuerySchema),
    },
  },
  "/v1/allocations": {
    post: {
      ...op("allocate", "Allocate a port (omit port or send 0 to auto-assign)", {
        201: json(
          schema(
            allocationSchema.extend({
              block: z
                .array(allocationSchema)
                .optional()
                .describe("with count > 1: every port of the block, first port first"),
            }),
            "output",
          ),
          "allocated (with count > 1: the block's first port, and the block)",
        ),
        200: json(
          schema(
            allocationSchema.extend({
              taken_over_from: z
                .string()
                .nullable()
                .optional()
                .describe(
                  "present when reuse moved the allocation to the caller's checkout: the checkout it had (null: none was recorded)",
                ),
              block: z
                .array(allocationSchema)
                .optional()
                .describe("with count > 1: every port of the block, first port first"),
            }),
            "output",
          ),
          "existing allocation returned (reuse=true)",
        ),
        ...errors([
          "bad_request",
          "port_allocated",
          "service_allocated",
          "env_key_taken",
          "name_taken",
          "port_in_use",
          "range_exhausted",
          "other_checkout",
          ...WITH_BODY,
          ...COMMON,
        ]),
      }),
      parameters: [...queryParameters(allocateQuerySchema), CLIENT_PID],
      requestBody: body(allocateRequestSchema),
    },
    get: {
      ...op("listAllocations", "List allocations, ordered by id", {
        200: json({ type: "array", items: ref("Allocation") }, "allocations"),
        ...errors(["bad_request", ...COMMON]),
      }),
      parameters: queryParameters(listQuerySchema),
    },
    delete: {
      ...op("releaseWhere", "Release every allocation matching the filter (at least one field)", {
        200: json(
          { type: "object", properties: { deleted: { type: "integer" } }, required: ["deleted"] },
          "released",
        ),
        ...errors(["bad_request", ...WITH_BODY, ...COMMON]),
      }),
      parameters: [CLIENT_PID],
      requestBody: body(filterSchema),
    },
  },
  "/v1/allocations/{id}": {
    delete: {
      ...op("release", "Release one allocation", {
        200: json({ type: "object", properties: { status: { const: "deleted" } } }, "released"),
        ...errors(["bad_request", "not_found", ...WITH_BODY, ...COMMON]),
      }),
      parameters: [pathParameter("id", idParamSchema), CLIENT_PID],
    },
  },
  "/v1/ports/{port}": {
    get: {
      ...op("portStatus", "Whether a port is free: neither allocated nor bound by a process", {
        200: json(schema(portStatusSchema, "output"), "status"),
        ...errors(["bad_request", ...COMMON]),
      }),
      parameters: [pathParameter("port", portParamSchema)],
    },
  },
  "/v1/events": {
    get: {
      ...op("events", "The history of changes to the registry, newest first", {
        200: json({ type: "array", items: ref("Event") }, "events"),
        ...errors(["bad_request", ...COMMON]),
      }),
      parameters: queryParameters(eventsQuerySchema),
    },
  },
  "/v1/prune": {
    post: {
      ...op(
        "prune",
        "Release allocations whose checkout folder is gone (with unused_for, also those not seen listening for that long); never one without a checkout, nor one listening now",
        {
          200: json(schema(pruneResultSchema, "output"), "what was (dry_run: would be) released"),
          ...errors(["bad_request", ...WITH_BODY, ...COMMON]),
        },
      ),
      parameters: [CLIENT_PID],
      requestBody: body(pruneRequestSchema),
    },
  },
  "/v1/sessions": {
    get: op("listSessions", "Every agent session and the allocations it holds, oldest first", {
      200: json({ type: "array", items: schema(sessionSchema, "output") }, "sessions"),
      ...errors(COMMON),
    }),
  },
  "/v1/sessions/{id}/heartbeat": {
    post: {
      ...op(
        "heartbeat",
        "Keep a session alive: it ends (its allocations released) when no heartbeat comes for ttl",
        {
          200: json(schema(sessionSchema, "output"), "the session"),
          ...errors(["bad_request", ...WITH_BODY, ...COMMON]),
        },
      ),
      parameters: [pathParameter("id", sessionIdSchema)],
      requestBody: body(heartbeatRequestSchema),
    },
  },
  "/v1/sessions/{id}": {
    delete: {
      ...op(
        "endSession",
        "End a session: release every allocation it holds (none: an empty list)",
        {
          200: json(schema(sessionEndSchema, "output"), "released"),
          ...errors(["bad_request", ...WITH_BODY, ...COMMON]),
        },
      ),
      parameters: [pathParameter("id", sessionIdSchema), CLIENT_PID],
    },
  },
  "/v1/import": {
    post: {
      ...op(
        "import",
        `Import allocations (what GET /v1/allocations returns) all or nothing; rows already registered exactly so are skipped. Bodies up to ${MAX_IMPORT_BYTES / 1024} KiB`,
        {
          200: json(schema(importResultSchema, "output"), "imported"),
          ...errors(["bad_request", "import_conflict", ...WITH_BODY, ...COMMON]),
        },
      ),
      parameters: [CLIENT_PID],
      requestBody: body(importRequestSchema),
    },
  },
  "/v1/projects": {
    post: {
      ...op(
        "claimProject",
        "The Compose project name a checkout runs its stack under: the one it holds for this name, else the name itself when no other existing checkout holds it, else (not explicit) a distinct stable one",
        {
          201: json(schema(projectSchema, "output"), "claimed"),
          200: json(
            schema(
              projectSchema.extend({
                taken_over_from: z
                  .string()
                  .optional()
                  .describe("present when the name moved to the caller's checkout: the one it had"),
              }),
              "output",
            ),
            "this checkout holds it already (or took it over)",
          ),
          ...errors(["bad_request", "project_taken", "range_exhausted", ...WITH_BODY, ...COMMON]),
        },
      ),
      parameters: [CLIENT_PID],
      requestBody: body(projectRequestSchema),
    },
    get: {
      ...op("listProjects", "The Compose project names the registry holds, ordered by id", {
        200: json({ type: "array", items: schema(projectSchema, "output") }, "projects"),
        ...errors(["bad_request", ...COMMON]),
      }),
      parameters: queryParameters(projectQuerySchema),
    },
  },
  "/v1/projects/{id}": {
    delete: {
      ...op("releaseProject", "Free one Compose project name", {
        200: json({ type: "object", properties: { status: { const: "deleted" } } }, "released"),
        ...errors(["bad_request", "not_found", ...WITH_BODY, ...COMMON]),
      }),
      parameters: [pathParameter("id", idParamSchema), CLIENT_PID],
    },
  },
  "/v1/openapi.json": {
    get: op("openapi", "This document", {
      200: json({ type: "object" }, "OpenAPI 3.1"),
      ...errors(["forbidden", "internal"]),
    }),
  },
  // Last: concrete paths come first, as OpenAPI matches them before a template.
  "/{asset}": {
    get: {
      ...op("dashboardAsset", "A bundled file of the dashboard (content-hashed, cacheable)", {
        200: {
          description: "the file",
          content: { "text/javascript": {}, "text/css": {} },
        },
        304: { description: "not modified (If-None-Match names its ETag)" },
        404: json(ref(errorName("not_found")), "no such file"),
        ...errors(COMMON),
      }),
      parameters: [pathParameter("asset", z.string().regex(/^chunk-[\w-]+\.(js|css)$/))],
    },
  },
};
