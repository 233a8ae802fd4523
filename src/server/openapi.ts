// The OpenAPI 3.1 description of the API, generated from the same zod schemas the routes
// validate with and from the one code → status table, so the document cannot drift from what
// the server accepts and answers.
import { z } from "zod";
import { importResultSchema } from "../core/backup.ts";
import { DEFAULT_HOST, MAX_IMPORT_BYTES } from "../core/config.ts";
import type { ErrorCode } from "../core/errors.ts";
import { eventsQuerySchema } from "../core/events.ts";
import { machineListenerSchema } from "../core/listeners.ts";
import {
  allocateQuerySchema,
  allocateRequestSchema,
  allocationSchema,
  errorSchemaOf,
  eventSchema,
  filterSchema,
  healthQuerySchema,
  idParamSchema,
  importRequestSchema,
  listQuerySchema,
  portParamSchema,
  portStatusSchema,
} from "../core/model.ts";
import { pruneRequestSchema, pruneResultSchema } from "../core/prune.ts";
import { API_CODES, HTTP_STATUS } from "./status.ts";

export function openApiDocument(version: string, port: number): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "port-server", version, description: DESCRIPTION },
    servers: [{ url: `http://${DEFAULT_HOST}:${port}`, description: "this daemon" }],
    // No authentication: the daemon listens on 127.0.0.1 only, and the Host, Origin and
    // Sec-Fetch-Site guards (403) are what keeps web pages out.
    security: [],
    components: {
      schemas: {
        Allocation: schema(allocationSchema, "output"),
        Event: schema(eventSchema, "output"),
        ...Object.fromEntries(API_CODES.map((c) => [errorName(c), errorComponent(c)])),
        Error: {
          description: "Any error of the API: `code` tells which, and which fields come with it",
          oneOf: API_CODES.map((c) => ref(errorName(c))),
          discriminator: {
            propertyName: "code",
            mapping: Object.fromEntries(API_CODES.map((c) => [c, refTo(errorName(c))])),
          },
        },
      },
    },
    paths: PATHS,
  };
}

// --- internal ---

type Json = Record<string, unknown>;

const DESCRIPTION = [
  "A local port registry: which host port belongs to which app/instance/service.",
  "",
  "There is no authentication (`security: []`): the daemon listens on 127.0.0.1 only, and",
  "every request must carry a Host of `127.0.0.1:<port>`, `localhost:<port>` or `[::1]:<port>`;",
  "writes from a browser must be same-origin by `Sec-Fetch-Site` or, without it, by `Origin`.",
  "Those guards answer 403 on every operation. Bodies must be `application/json` (415) of at",
  "most 64 KiB (413). Every response carries `X-Content-Type-Options: nosniff` and",
  "`Cross-Origin-Resource-Policy: same-origin`. HEAD is answered wherever GET is; another",
  "method on a known path is 405 with `Allow`; an unknown path is 404. Both are `Error`s.",
  "Query parameters other than those declared are refused (400) where an operation has any.",
  "Any failure of the database is `storage` (503), on reads, writes and `/healthz` alike.",
  "",
  "Not ours: Bun's HTTP parser refuses some requests before any handler runs, with a bare",
  "status line (no body, none of the headers above), and closes the connection (measured by",
  "the test suite): 400 for HTTP/1.1 without Host, a malformed request line (two spaces, a",
  "method with other characters, a target not starting with `/`, an empty line), a malformed",
  "header line (no colon, a space before it, a bare CR or NUL, obs-fold), conflicting framing",
  "(Content-Length with Transfer-Encoding, two Content-Lengths, a Transfer-Encoding other than",
  "one `chunked`, a Content-Length that is not a number or is 10^18 or more, a chunk size that",
  "is not hex) and bytes that are not HTTP/1 (TLS, the HTTP/2 preface); 505 for an HTTP version",
  "other than 1.0/1.1, no version, a space inside the target, or LF-only line ends; 413 for a",
  "Content-Length above 2^53 - 1; 431 for a request line or headers over about 16 KiB; and no",
  "answer at all for a method that is not an upper-case HTTP method (`get`, `FOO`).",
].join("\n");

const COMMON: ErrorCode[] = ["forbidden", "storage", "internal"];
const WITH_BODY: ErrorCode[] = ["payload_too_large", "unsupported_media_type"];

const CLIENT_PID: Json = {
  name: "X-Client-Pid",
  in: "header",
  required: false,
  description: "the client's process id, recorded with the change in the history",
  schema: { type: "integer", minimum: 1 },
};

const PATHS = {
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
              integrity: {
                type: "string",
                description: "with check=integrity: `ok`, or what PRAGMA quick_check found",
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
        201: json(ref("Allocation"), "allocated"),
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
            }),
            "output",
          ),
          "existing allocation returned (reuse=true)",
        ),
        ...errors([
          "bad_request",
          "port_allocated",
          "service_allocated",
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

function schema(s: z.ZodType, io: "input" | "output" = "input"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Json;
  return rest;
}

function errorName(code: ErrorCode): string {
  return `Error_${code}`;
}

function errorComponent(code: ErrorCode): Json {
  return {
    ...schema(errorSchemaOf(code), "output"),
    description: `\`${code}\` (${HTTP_STATUS[code]})`,
  };
}

/** The error responses of an operation: one per status, typed by the codes it can carry. */
function errors(codes: ErrorCode[]): Record<number, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) byStatus.set(HTTP_STATUS[c], [...(byStatus.get(HTTP_STATUS[c]) ?? []), c]);
  return Object.fromEntries(
    [...byStatus].map(([status, cs]) => [
      status,
      json(
        cs.length === 1
          ? ref(errorName(cs[0] as ErrorCode))
          : { oneOf: cs.map((c) => ref(errorName(c))) },
        cs.map((c) => `\`${c}\``).join(", "),
      ),
    ]),
  );
}

function refTo(name: string): string {
  return `#/components/schemas/${name}`;
}

function ref(name: string): Json {
  return { $ref: refTo(name) };
}

function json(s: Json, description: string): Json {
  return { description, content: { "application/json": { schema: s } } };
}

function op(operationId: string, summary: string, responses: Record<number, Json>): Json {
  return { operationId, summary, security: [], responses };
}

function body(s: z.ZodType): Json {
  return { required: true, content: { "application/json": { schema: schema(s) } } };
}

function pathParameter(name: string, s: z.ZodType): Json {
  return { name, in: "path", required: true, schema: schema(s) };
}

/** Each property a query parameter; the object is strict, so the description says so. */
function queryParameters(s: z.ZodObject): Json[] {
  return Object.entries(schema(s).properties as Record<string, Json>).map(
    ([name, { description, ...p }]) => ({
      name,
      in: "query",
      required: false,
      ...(description ? { description } : {}),
      schema: p,
    }),
  );
}
