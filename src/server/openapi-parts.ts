// The building blocks of the OpenAPI document: zod → JSON Schema, references, the error
// responses of an operation (from the one code → status table), parameters and bodies.
import { z } from "zod";
import type { ErrorCode } from "../core/errors.ts";
import { HTTP_STATUS } from "../core/errors.ts";
import { errorSchemaOf } from "../core/model.ts";

export type Json = Record<string, unknown>;

export const COMMON: ErrorCode[] = ["forbidden", "storage", "internal"];
export const WITH_BODY: ErrorCode[] = ["payload_too_large", "unsupported_media_type"];

export const CLIENT_PID: Json = {
  name: "X-Client-Pid",
  in: "header",
  required: false,
  description: "the client's process id, recorded with the change in the history",
  schema: { type: "integer", minimum: 1 },
};

export function schema(s: z.ZodType, io: "input" | "output" = "input"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Json;
  return rest;
}

export function errorName(code: ErrorCode): string {
  return `Error_${code}`;
}

export function errorComponent(code: ErrorCode): Json {
  return {
    ...schema(errorSchemaOf(code), "output"),
    description: `\`${code}\` (${HTTP_STATUS[code]})`,
  };
}

/** The error responses of an operation: one per status, typed by the codes it can carry. */
export function errors(codes: ErrorCode[]): Record<number, Json> {
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

export function refTo(name: string): string {
  return `#/components/schemas/${name}`;
}

export function ref(name: string): Json {
  return { $ref: refTo(name) };
}

export function json(s: Json, description: string): Json {
  return { description, content: { "application/json": { schema: s } } };
}

export function op(operationId: string, summary: string, responses: Record<number, Json>): Json {
  return { operationId, summary, security: [], responses };
}

export function body(s: z.ZodType): Json {
  return { required: true, content: { "application/json": { schema: schema(s) } } };
}

export function pathParameter(name: string, s: z.ZodType): Json {
  return { name, in: "path", required: true, schema: schema(s) };
}

/** Each property a query parameter; the object is strict, so the description says so. */
export function queryParameters(s: z.ZodObject): Json[] {
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
