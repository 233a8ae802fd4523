// The OpenAPI 3.1 description of the API, generated from the same zod schemas the routes
// validate with, so the document cannot drift from what the server accepts.
import { z } from "zod";
import {
  allocateRequestSchema,
  allocationSchema,
  errorSchema,
  filterSchema,
  listQuerySchema,
  portStatusSchema,
} from "../core/model.ts";

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "port-server",
      version,
      description: "A local port registry: which host port belongs to which app/instance/service.",
    },
    servers: [{ url: "http://127.0.0.1:51234" }],
    components: {
      schemas: {
        Allocation: schema(allocationSchema, "output"),
        Error: schema(errorSchema, "output"),
      },
    },
    paths: {
      "/healthz": {
        get: op("Health check", {
          200: json({ type: "object" }, "ok"),
          503: error("database unusable"),
        }),
      },
      "/v1/allocations": {
        post: {
          ...op("Allocate a port (omit port or send 0 to auto-assign)", {
            201: json(ref("Allocation"), "allocated"),
            200: json(ref("Allocation"), "existing allocation returned (reuse=true)"),
            400: error("invalid request"),
            409: error(
              "port already allocated, service already allocated, or port in use on system",
            ),
            413: error("body over 64 KiB"),
            415: error("Content-Type is not application/json"),
          }),
          parameters: [
            flag("reuse", "return the existing allocation of this service"),
            flag("adopt", "record an explicit port even if a process listens on it"),
          ],
          requestBody: body(allocateRequestSchema),
        },
        get: {
          ...op("List allocations, ordered by id", {
            200: json({ type: "array", items: ref("Allocation") }, "allocations"),
            400: error("invalid filter"),
          }),
          parameters: queryParameters(listQuerySchema),
        },
        delete: {
          ...op("Release every allocation matching the filter (at least one field)", {
            200: json(
              {
                type: "object",
                properties: { deleted: { type: "integer" } },
                required: ["deleted"],
              },
              "released",
            ),
            400: error("no filter field, or invalid filter"),
          }),
          requestBody: body(filterSchema),
        },
      },
      "/v1/allocations/{id}": {
        delete: {
          ...op("Release one allocation", {
            200: json({ type: "object", properties: { status: { const: "deleted" } } }, "released"),
            400: error("id is not a positive integer"),
            404: error("allocation not found"),
          }),
          parameters: [pathParameter("id", { type: "integer", minimum: 1 })],
        },
      },
      "/v1/ports/{port}": {
        get: {
          ...op("Whether a port is free: neither allocated nor bound by a process", {
            200: json(schema(portStatusSchema, "output"), "status"),
            400: error("port is not an integer 1-65535"),
          }),
          parameters: [pathParameter("port", { type: "integer", minimum: 1, maximum: 65535 })],
        },
      },
      "/v1/openapi.json": {
        get: op("This document", { 200: json({ type: "object" }, "OpenAPI 3.1") }),
      },
    },
  };
}

// --- internal ---

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: "input" | "output" = "input"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Json;
  return rest;
}

function ref(name: string): Json {
  return { $ref: `#/components/schemas/${name}` };
}

function json(s: Json, description: string): Json {
  return { description, content: { "application/json": { schema: s } } };
}

function error(description: string): Json {
  return json(ref("Error"), description);
}

function op(summary: string, responses: Record<number, Json>): Json {
  return { summary, responses };
}

function body(s: z.ZodType): Json {
  return { required: true, content: { "application/json": { schema: schema(s) } } };
}

function flag(name: string, description: string): Json {
  return { name, in: "query", required: false, description, schema: { type: "boolean" } };
}

function pathParameter(name: string, s: Json): Json {
  return { name, in: "path", required: true, schema: s };
}

function queryParameters(s: z.ZodObject): Json[] {
  return Object.entries(schema(s).properties as Record<string, Json>).map(([name, p]) => ({
    name,
    in: "query",
    required: false,
    schema: p,
  }));
}
