// What every MCP handler needs and that loads with the server (no zod, no tool schemas): a tool's
// context, and the CLI's one line for a failure.
import { PortError } from "../../core/errors.ts";
import { Client } from "../client.ts";
import { CLI_ERRORS } from "../errors.ts";
import type { Io } from "../io.ts";
import type { ToolContext } from "./schemas.ts";

/** The line the CLI would print after `error: ` for this failure. */
export function errorLine(err: unknown): string {
  if (err instanceof PortError) return CLI_ERRORS[err.code].line(err);
  return err instanceof Error ? err.message : String(err);
}

/** A client per call: it reads PORT_SERVER_ADDR from the environment, which cannot change. */
export function toolContext(io: Io): ToolContext {
  return { client: new Client(io.env), io };
}
