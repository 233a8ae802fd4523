// The `scan` tool: host-bound ports in a project's Compose files, .env files and package.json
// scripts, and with register: true, each recorded for the project's app and instance, as
// `portctl scan --register` does.
import { z } from "zod";
import { SCAN_DEPTH } from "../../core/config.ts";
import { systemUseSchema } from "../../core/model.ts";
import {
  allocationOut,
  appArg,
  defineTool,
  IDEMPOTENT_WRITE,
  instanceArg,
  projectFolder,
  strictArgs,
} from "./schemas.ts";

const finding = z.object({
  port: z.number().int().describe("the host port"),
  service: z.string().describe("the name it would be registered under"),
  source: z.string().describe("file:line, relative to the scanned folder"),
  protocol: z.enum(["tcp", "udp"]),
  kind: z.enum(["compose", "env", "script"]),
  host_ip: z.string().optional(),
  profiles: z
    .array(z.string())
    .optional()
    .describe("the Compose profiles its service belongs to: published only when one is active"),
});

const problem = z.object({
  source: z.string().describe("file:line:column where known"),
  message: z.string(),
});

export const scanTool = defineTool({
  name: "scan",
  title: "Scan a project for ports",
  description:
    'Find the host ports a project binds: published ports in Compose files ("5432:5432", "127.0.0.1:9100:8080"; a bare "3001" is not host-bound), *_PORT variables in .env files, and --port flags in package.json scripts. ' +
    "Reads only, unless register is true: then each port found is recorded for the project's app and instance (existing allocations are reused; a port held by someone else is a conflict, reported, not fatal).",
  input: strictArgs({
    directory: z
      .string()
      .min(1, { error: "must not be empty" })
      .describe(
        "The project folder to scan (absolute, or relative to this server's working directory).",
      ),
    register: z.boolean().default(false).describe("Record each port found in the registry."),
    depth: z
      .number()
      .int({ error: "must be an integer between 0 and 64" })
      .min(0, { error: "must be an integer between 0 and 64" })
      .max(64, { error: "must be an integer between 0 and 64" })
      .optional()
      .describe(`Folder levels below directory to read (default ${SCAN_DEPTH}).`),
    app: appArg.describe(
      "With register: the app to record under. Default: detected from directory.",
    ),
    instance: instanceArg,
  }),
  output: z.object({
    directory: z.string().describe("the folder scanned"),
    findings: z.array(finding),
    errors: z.array(problem).describe("files that could not be read or parsed"),
    warnings: z.array(problem).describe("entries skipped, with why"),
    not_scanned: z
      .array(z.object({ path: z.string(), reason: z.enum(["depth", "folder", "outside"]) }))
      .describe(
        "Compose files found but not read: deeper than depth, in a skipped folder (build/, dist/, vendor/, …; scan it by naming it), or linked from outside",
      ),
    registrations: z
      .array(
        finding.extend({
          result: z.enum(["registered", "exists", "conflict", "skipped"]),
          allocation: allocationOut.optional(),
          holder: allocationOut.optional(),
          listening: systemUseSchema.optional(),
          error: z.string().optional(),
        }),
      )
      .optional()
      .describe("with register: what happened to each port"),
  }),
  // Not read-only: with register it writes to the registry (never deletes, and reuses).
  annotations: IDEMPOTENT_WRITE,
  async run(args, { client, io }) {
    const root = projectFolder(args.directory, io);
    // The scanner (and its YAML parser) loads on the first scan, not with every `portctl mcp`.
    const { scanProject } = await import("../../core/scan/index.ts");
    const { problemLists, registerFindings } = await import("../commands/scan.ts");
    const depth = args.depth ?? SCAN_DEPTH;
    const { findings, problems, unscanned } = scanProject(root, io.env, { depth });
    // The keys of `portctl scan --json`.
    const found = { directory: root, findings, ...problemLists(problems), not_scanned: unscanned };
    if (!args.register) return found;
    const { registrations } = await registerFindings(findings, root, args, client);
    return { ...found, registrations };
  },
});
