// tools/list and tools/call, loaded on the first of them rather than with the server, so that
// `initialize` is answered before the tools' schemas (zod, core/model, the commands they reuse)
// are built. `server.ts` starts loading this as soon as the host says it is initialized.
import type { CallToolResult } from "@modelcontextprotocol/server";
import { z } from "zod";
import { parseOrThrow } from "../../core/model.ts";
import type { Io } from "../io.ts";
import { errorLine, toolContext } from "./context.ts";
import type { Tool } from "./schemas.ts";
import { TOOLS } from "./tools.ts";

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

export function findTool(name: string): Tool | undefined {
  return BY_NAME.get(name);
}

/** Every tool as tools/list describes it. */
export function describeTools() {
  return TOOLS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: jsonSchema(t.input, "input"),
    outputSchema: jsonSchema(t.output, "output"),
    annotations: { title: t.title, ...t.annotations },
  }));
}

/** Runs a tool: arguments checked like the CLI's flags, every failure a one-line tool error. */
export async function callTool(tool: Tool, args: unknown, io: Io): Promise<CallToolResult> {
  try {
    const input = parseOrThrow(tool.input, args);
    const result = (await tool.run(input, toolContext(io))) as Record<string, unknown>;
    return {
      content: [{ type: "text", text: JSON.stringify(result, null, 2) }],
      structuredContent: result,
    };
  } catch (err) {
    return { content: [{ type: "text", text: errorLine(err) }], isError: true };
  }
}

// --- internal ---

/**
 * Draft-07, like the SDK's own conversion, so every client's validator reads it. Inputs are
 * closed (a misspelt argument is an error); outputs are open, so a client built against this
 * version still accepts the answer of a daemon that added a field.
 */
function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: "draft-7",
    io,
    override: (ctx) => {
      if (io === "output") delete ctx.jsonSchema.additionalProperties;
    },
  });
  // zod writes a nullable field as a type array once the overrides have run: split after.
  splitTypeArrays(rest);
  return rest as { type: "object"; [key: string]: unknown };
}

/** Where a JSON Schema holds schemas: by name, in a list, or one. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "definitions", "$defs"]);
const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
const SCHEMA_KEYS = new Set(["items", "additionalProperties", "not", "contains", "propertyNames"]);

/** Words about a value as a whole: they stay beside `anyOf`, the rest go into its branches. */
const ANNOTATIONS = new Set(["title", "description", "default", "examples", "deprecated"]);

/**
 * `{"type": ["string", "null"], …}` (zod's nullable) as `anyOf` branches of one type each:
 * clients that map tool schemas onto a single-`type` dialect (Gemini's function declarations)
 * reject or drop a type array, and the MCP Inspector's --strict warns about it.
 */
function splitTypeArrays(schema: unknown): void {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return;
  const node = schema as Record<string, unknown>;
  for (const [key, child] of Object.entries(node)) {
    if (SCHEMA_MAPS.has(key) && typeof child === "object" && child !== null) {
      for (const sub of Object.values(child)) splitTypeArrays(sub);
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(child)) {
      for (const sub of child) splitTypeArrays(sub);
    } else if (SCHEMA_KEYS.has(key)) {
      for (const sub of Array.isArray(child) ? child : [child]) splitTypeArrays(sub);
    }
  }
  const types = node.type;
  if (!Array.isArray(types)) return;
  const constraints: Record<string, unknown> = {};
  for (const key of Object.keys(node)) {
    if (key === "type" || ANNOTATIONS.has(key)) continue;
    constraints[key] = node[key];
    delete node[key];
  }
  delete node.type;
  node.anyOf = types.map((t) => (t === "null" ? { type: "null" } : { type: t, ...constraints }));
}
