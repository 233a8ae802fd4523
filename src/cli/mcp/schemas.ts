// The pieces every MCP tool is made of: its definition (zod schemas in, zod schemas out,
// annotations for the host) and the arguments several tools share, with descriptions written
// for a model. The input schemas reuse core/model.ts's name and port rules, so a tool call is
// refused for exactly what the CLI and the API refuse.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { PortError } from "../../core/errors.ts";
import {
  allocationSchema,
  nameSchema,
  portSchema,
  systemUseSchema,
  unknownKeys,
} from "../../core/model.ts";
import type { Client } from "../client.ts";
import type { Io } from "../io.ts";

/** What a tool may touch: the daemon (through the CLI's client) and the server's environment. */
export interface ToolContext {
  client: Client;
  io: Io;
}

/** MCP's tool annotations: hints a host uses to decide what to auto-approve. */
export interface Annotations {
  readOnlyHint: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint: boolean;
}

/** The hints in use: reads only; writes that repeat safely; removes. */
export const READ_ONLY: Annotations = { readOnlyHint: true, openWorldHint: false };
export const IDEMPOTENT_WRITE: Annotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};
export const DESTRUCTIVE: Annotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: false,
};

export interface Tool<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: Annotations;
  run(args: z.output<I>, ctx: ToolContext): Promise<z.input<O>>;
}

/** Keeps each tool's `run` typed by its own schemas while the table holds them all. */
export function defineTool<I extends z.ZodType, O extends z.ZodType>(tool: Tool<I, O>): Tool {
  return tool as unknown as Tool;
}

/** A tool's arguments: an unknown one (a misspelt `instanc`) is refused, as the API does. */
export function strictArgs<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, { error: unknownKeys });
}

export const directoryArg = z
  .string()
  .min(1, { error: "must not be empty" })
  .optional()
  .describe(
    "The project folder you are working in (absolute, or relative to this server's working directory). " +
      "app and instance are detected from it: the git repository's name, and the linked worktree's folder or else the branch. " +
      "Default: this server's working directory.",
  );

export const appArg = nameSchema
  .optional()
  .describe(
    "Application name. Default: detected from directory (git repository name, else folder name).",
  );

export const instanceArg = nameSchema
  .optional()
  .describe(
    "Instance name, one per checkout of the app. Default: detected from directory (linked worktree folder, else branch, else 'default').",
  );

export const serviceArg = nameSchema.describe(
  "Service name within the app/instance, e.g. web, api, postgres.",
);

export const portArg = portSchema;

/** A name filter (service, instance) with its own description. */
export function optionalName(description: string) {
  return nameSchema.optional().describe(description);
}

/** What the daemon answers (the JSON Schema leaves room for fields a newer daemon adds). */
export const allocationOut = allocationSchema;

export const listedAllocationOut = allocationSchema.extend({
  listening: z.boolean().describe("whether a process on this machine listens on the port now"),
});

export const portStatusOut = z.object({
  port: z.number().int(),
  available: z.boolean().describe("false when allocated or bound by a process"),
  holder: allocationOut.optional(),
  system: systemUseSchema,
  summary: z
    .string()
    .optional()
    .describe(
      "the answer in one line, as portctl check prints it: `port 5432 is in use by container shop-db-1 (Compose project shop, ~/work/shop), not registered`",
    ),
});

/**
 * The folder a call is about: `directory` resolved against the server's working directory. It
 * must exist, or the app and instance detected from it would be made up.
 */
export function projectFolder(directory: string | undefined, io: Io): string {
  const dir = resolve(io.cwd, directory ?? ".");
  if (!existsSync(dir)) throw new PortError("bad_request", `directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) {
    throw new PortError("bad_request", `directory ${dir} is a file, not a folder`);
  }
  return dir;
}
