// `portctl mcp`: the registry as a Model Context Protocol server on stdio, built on the official
// SDK's low-level Server. The high-level McpServer would answer a bad argument with zod's
// issue list; this one validates with core/model.ts's rules and answers like the CLI, one line
// (`port must be an integer between 1 and 65535`), as an isError tool result. stdout carries
// protocol messages only; anything for people goes to stderr.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { MCP_SERVER_NAME } from "../../core/config.ts";
import { PortError } from "../../core/errors.ts";
import { parseOrThrow } from "../../core/model.ts";
import { VERSION } from "../../core/version.ts";
import { Client } from "../client.ts";
import { CLI_ERRORS } from "../errors.ts";
import type { Io } from "../io.ts";
import type { Tool, ToolContext } from "./schemas.ts";
import { TOOLS } from "./tools.ts";

export const ALLOCATIONS_URI = "ports://allocations";

/** Serves until the host closes stdin; exit 0. */
export async function mcp(_opts: Record<string, never>, io: Io): Promise<number> {
  const server = createMcpServer(io);
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  // The SDK's transport does not notice the end of stdin; the host closing it means "stop".
  process.stdin.once("end", () => void server.close());
  await server.connect(new StdioServerTransport());
  io.err(`portctl mcp ${VERSION}: serving on stdio (${registryAt(io)})`);
  await closed;
  return 0;
}

/** The server with every tool and resource, not yet connected (tests connect it in memory). */
export function createMcpServer(io: Io): Server {
  const server = new Server(
    { name: MCP_SERVER_NAME, title: "port-server", version: VERSION },
    { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
  );
  const byName = new Map(TOOLS.map((t) => [t.name, t]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map(describeTool) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const tool = byName.get(req.params.name);
    // An unknown tool is the host's mistake, not the tool's: a protocol error, as the spec says.
    if (!tool) throw protocolError(-32602, `unknown tool: ${req.params.name}`);
    return callTool(tool, req.params.arguments ?? {}, io);
  });
  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [ALLOCATIONS] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    if (req.params.uri !== ALLOCATIONS_URI) {
      throw protocolError(RESOURCE_NOT_FOUND, `unknown resource: ${req.params.uri}`);
    }
    try {
      const rows = await context(io).client.list();
      return { contents: [{ uri: ALLOCATIONS_URI, mimeType: JSON_TYPE, text: json(rows) }] };
    } catch (err) {
      throw protocolError(-32603, errorLine(err));
    }
  });
  return server;
}

/** Runs a tool: arguments checked like the CLI's flags, every failure a one-line tool error. */
export async function callTool(tool: Tool, args: unknown, io: Io): Promise<CallToolResult> {
  try {
    const input = parseOrThrow(tool.input, args);
    const result = (await tool.run(input, context(io))) as Record<string, unknown>;
    return { content: [{ type: "text", text: json(result) }], structuredContent: result };
  } catch (err) {
    return { content: [{ type: "text", text: errorLine(err) }], isError: true };
  }
}

/** The line the CLI would print after `error: ` for this failure. */
export function errorLine(err: unknown): string {
  if (err instanceof PortError) return CLI_ERRORS[err.code].line(err);
  return err instanceof Error ? err.message : String(err);
}

// --- internal ---

const JSON_TYPE = "application/json";
/** MCP's code for a resource that does not exist. */
const RESOURCE_NOT_FOUND = -32002;

const ALLOCATIONS = {
  uri: ALLOCATIONS_URI,
  name: "allocations",
  title: "All port allocations",
  description: "Every allocation in the registry (all apps and instances), as the API lists them.",
  mimeType: JSON_TYPE,
};

const INSTRUCTIONS =
  "port-server is this machine's registry of host ports. Never pick a port number yourself: " +
  "call allocate for each service that binds a host port, and use the port it returns. " +
  'Register only host-bound ports (Compose "5432:5432" or "127.0.0.1:9100:8080", not a bare "3001"); ' +
  "scan finds them in a project. check a number you did not get from allocate before using it. " +
  "release the project's ports when its services are torn down. " +
  "Pass directory (the folder you work in) so the app and instance are the project's own.";

function describeTool(t: Tool) {
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: jsonSchema(t.input, "input"),
    outputSchema: jsonSchema(t.output, "output"),
    annotations: { title: t.title, ...t.annotations },
  };
}

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
  return rest as { type: "object"; [key: string]: unknown };
}

/** A client per call: it reads PORT_SERVER_ADDR from the environment, which cannot change. */
function context(io: Io): ToolContext {
  return { client: new Client(io.env), io };
}

/** A bad PORT_SERVER_ADDR is reported by every tool call, not by refusing to start. */
function registryAt(io: Io): string {
  try {
    return `registry at ${new Client(io.env).base}`;
  } catch (err) {
    return errorLine(err);
  }
}

/** A JSON-RPC error with our message as it is (McpError would prefix "MCP error -32602: "). */
function protocolError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
