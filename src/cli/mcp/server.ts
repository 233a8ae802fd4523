// `portctl mcp`: the registry as a Model Context Protocol server on stdio, built on the official
// SDK's (v2) low-level Server. It speaks the current protocol, 2026-07-28 (`server/discover`),
// and the 2025 revisions hosts still use (`initialize`: 2025-11-25, 2025-06-18, …). The
// high-level McpServer would answer a bad argument with zod's issue list; this one validates
// with core/model.ts's rules and answers like the CLI, one line (`port must be an integer
// between 1 and 65535`), as an isError tool result. stdout carries protocol messages only, and
// nothing goes to stderr in normal operation (hosts log a server's stderr as errors).

import { PassThrough } from "node:stream";
import { Server } from "@modelcontextprotocol/server";
import { StdioServerTransport, serveStdio } from "@modelcontextprotocol/server/stdio";
import { MCP_SERVER_NAME } from "../../core/config.ts";
import { VERSION } from "../../core/version.ts";
import type { Io } from "../io.ts";
import { errorLine, toolContext } from "./context.ts";

const ALLOCATIONS_URI = "ports://allocations";

/**
 * Serves until the host closes stdin, then answers what it had already sent (a host or a script
 * may write its requests and close at once) and exits 0. The SDK's transport drops requests in
 * flight at the end of its input, so it reads a stream of ours that ends only once they are
 * answered.
 */
export async function mcp(_opts: Record<string, never>, io: Io): Promise<number> {
  const inFlight = new InFlight();
  const input = new PassThrough();
  const ended = new Promise<void>((resolve) => {
    process.stdin.on("data", (chunk: Buffer) => input.write(chunk));
    process.stdin.once("end", resolve);
  });
  // serveStdio picks the era from the opening message (server/discover: 2026-07-28; initialize:
  // a 2025 revision) and pins one server from the factory for the connection.
  const handle = serveStdio(() => createMcpServer(io, inFlight), {
    onerror: () => {},
    transport: new StdioServerTransport(input, process.stdout),
  });
  await ended;
  await inFlight.drained();
  await flush(process.stdout);
  input.end();
  await handle.close();
  return 0;
}

/** The requests being answered: the server closes only once none is left. */
class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  /** `handler`, counted while it runs. */
  track<A extends unknown[], R>(handler: (...args: A) => R | Promise<R>) {
    return (...args: A): Promise<R> => {
      const run = Promise.resolve().then(() => handler(...args));
      const settled = run.then(
        () => {},
        () => {},
      );
      this.#pending.add(settled);
      void settled.then(() => this.#pending.delete(settled));
      return run;
    };
  }

  /**
   * Resolves when no request is running, nor started within a turn of the event loop after the
   * last one ended (the transport may still be handing over lines read before the end), and
   * the answers of the last ones have been handed to stdout.
   */
  async drained(): Promise<void> {
    for (let idle = 0; idle < 3; ) {
      if (this.#pending.size > 0) {
        idle = 0;
        await Promise.allSettled([...this.#pending]);
      } else idle++;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/** Resolves once what was written to `stream` has been handed to the system. */
function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) return resolve();
    stream.write("", () => resolve());
  });
}

// --- internal ---

/** The server with every tool and resource, not yet connected. */
function createMcpServer(io: Io, inFlight: InFlight): Server {
  const server = new Server(
    { name: MCP_SERVER_NAME, title: "port-server", version: VERSION },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: INSTRUCTIONS,
      supportedProtocolVersions: [...PROTOCOL_VERSIONS],
    },
  );
  // The tools load on first use; the host's "initialized" starts that while it prepares its
  // next request, so initialize itself is answered without them.
  let dispatch: Promise<typeof import("./dispatch.ts")> | undefined;
  const tools = () => {
    dispatch ??= import("./dispatch.ts");
    return dispatch;
  };
  server.oninitialized = () => void tools();
  server.setRequestHandler(
    "tools/list",
    inFlight.track(async () => ({ tools: (await tools()).describeTools() })),
  );
  server.setRequestHandler(
    "tools/call",
    inFlight.track(async (req) => {
      const d = await tools();
      const tool = d.findTool(req.params.name);
      // An unknown tool is the host's mistake, not the tool's: a protocol error, as the spec says.
      if (!tool) throw protocolError(-32602, `unknown tool: ${req.params.name}`);
      return d.callTool(tool, req.params.arguments ?? {}, io);
    }),
  );
  server.setRequestHandler("resources/list", () => ({ resources: [ALLOCATIONS] }));
  server.setRequestHandler(
    "resources/read",
    inFlight.track(async (req) => {
      if (req.params.uri !== ALLOCATIONS_URI) {
        throw protocolError(RESOURCE_NOT_FOUND, `unknown resource: ${req.params.uri}`);
      }
      try {
        const rows = await toolContext(io).client.list();
        return { contents: [{ uri: ALLOCATIONS_URI, mimeType: JSON_TYPE, text: json(rows) }] };
      } catch (err) {
        throw protocolError(-32603, errorLine(err));
      }
    }),
  );
  return server;
}

/**
 * Newest first: 2026-07-28 is chosen through `server/discover`; `initialize` answers with the
 * client's 2025 revision when it is one of these.
 */
export const PROTOCOL_VERSIONS = [
  "2026-07-28",
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
] as const;

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

/** A JSON-RPC error with our message as it is (McpError would prefix "MCP error -32602: "). */
function protocolError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
