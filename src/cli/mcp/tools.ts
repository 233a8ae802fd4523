// The registry as MCP tools. Each one does what the CLI command of the same name does, through
// the same client and the same defaults (app and instance detected from the project folder),
// and returns data instead of text: the host gets `structuredContent` checked by `output`.
import { z } from "zod";
import { PortError } from "../../core/errors.ts";
import { type Allocation, pidSchema, projectSchema, sessionIdSchema } from "../../core/model.ts";
import { systemProbe } from "../../core/probe.ts";
import { movedService } from "../commands/allocate.ts";
import { checkLine } from "../commands/check.ts";
import { listQuery } from "../commands/list.ts";
import { buildFilter, describeFilter } from "../commands/release.ts";
import { detectCheckoutPath, detectOwner } from "../detect.ts";
import { envEntries } from "../envfile.ts";
import { PLAIN } from "../output.ts";
import { historyTool } from "./history-tool.ts";
import { pruneTool } from "./prune-tool.ts";
import { scanTool } from "./scan-tool.ts";
import {
  allocationOut,
  appArg,
  DESTRUCTIVE,
  defineTool,
  directoryArg,
  IDEMPOTENT_WRITE,
  instanceArg,
  listedAllocationOut,
  optionalName,
  portArg,
  portStatusOut,
  projectFolder,
  READ_ONLY,
  serviceArg,
  strictArgs,
  type Tool,
  type ToolContext,
} from "./schemas.ts";

const allocate = defineTool({
  name: "allocate",
  title: "Allocate a port",
  description:
    "Get a host port for a service of the project you work in, instead of picking a number yourself. " +
    "Without port, the registry picks a free one; with port, it claims exactly that one (refused if another service holds it or a process on this machine listens on it). " +
    "With reuse (the default) a service that already has a port gets the same one back, so calling this again is safe. " +
    "Use the returned port in the service's configuration (e.g. PORT, or a Compose file's published port).",
  input: strictArgs({
    service: serviceArg,
    port: portArg.optional().describe("A specific port to claim (1-65535). Omit to auto-assign."),
    app: appArg,
    instance: instanceArg,
    directory: directoryArg,
    reuse: z
      .boolean()
      .default(true)
      .describe(
        "Return the service's existing allocation instead of failing (default true). False: fail if the service already has a port.",
      ),
    lease: z
      .boolean()
      .default(false)
      .describe(
        "Release the port by itself when this agent session ends (the MCP server's process exits): for throwaway ports such as a test run's.",
      ),
    lease_pid: pidSchema
      .optional()
      .describe("Release the port by itself when this process exits (e.g. a server you started)."),
    lease_session: sessionIdSchema
      .optional()
      .describe(
        "Hold the port for this agent session (its id) until `portctl session end`, its heartbeat lapses or its checkout folder is deleted: for a worktree's ports.",
      ),
  }),
  output: z.object({
    allocation: allocationOut,
    created: z.boolean().describe("true if newly allocated, false if the service already had it"),
    taken_over_from: z
      .string()
      .nullable()
      .optional()
      .describe(
        "with reuse: the allocation belonged to another checkout that no longer exists (null: none was recorded) and now belongs to this one",
      ),
  }),
  annotations: IDEMPOTENT_WRITE,
  async run(args, { client, io }) {
    const dir = projectFolder(args.directory, io);
    if (args.lease && args.lease_pid !== undefined) {
      throw new PortError("bad_request", "lease and lease_pid both name the process; pass one");
    }
    if ((args.lease || args.lease_pid !== undefined) && args.lease_session !== undefined) {
      throw new PortError("bad_request", "pass one of lease, lease_pid and lease_session");
    }
    const leasePid = args.lease ? process.pid : args.lease_pid;
    const req = {
      ...detectOwner(dir, args),
      service: args.service,
      port: args.port ?? 0,
      checkout: detectCheckoutPath(dir),
      ...(leasePid === undefined ? {} : { lease_pid: leasePid }),
      ...(args.lease_session === undefined ? {} : { lease_session: args.lease_session }),
    };
    const { allocation, created, takenOverFrom } = await client
      .allocate(req, { reuse: args.reuse })
      .catch((err: unknown) => {
        throw movedService(err, req.port);
      });
    return {
      allocation,
      created,
      ...(takenOverFrom === undefined ? {} : { taken_over_from: takenOverFrom }),
    };
  },
});

const release = defineTool({
  name: "release",
  title: "Release ports",
  description:
    "Give ports back to the registry when a service or checkout is torn down. " +
    "Either id alone (one allocation), or a filter whose fields are AND-ed: without app and port, the filter is the project's own app and instance (detected from directory), so other checkouts are never touched. " +
    "Returns the allocations released. Nothing matching is an error.",
  input: strictArgs({
    id: z.number().int().positive().optional().describe("Release exactly this allocation."),
    app: appArg.describe(
      "Release this app's allocations (every instance unless instance is given).",
    ),
    instance: instanceArg,
    service: optionalName("Only this service."),
    port: portArg.optional().describe("Only the allocation of this port."),
    directory: directoryArg,
  }),
  output: z.object({
    released: z.array(allocationOut),
  }),
  annotations: DESTRUCTIVE,
  async run(args, { client, io }) {
    const { id, directory, ...rest } = args;
    if (id !== undefined) {
      if (directory !== undefined || Object.values(rest).some((v) => v !== undefined)) {
        throw new PortError(
          "bad_request",
          "id cannot be combined with app, instance, service, port or directory",
        );
      }
      const found = (await client.list()).find((a) => a.id === id);
      if (!found) throw new PortError("not_found", "allocation not found");
      await client.release(id);
      return { released: [found] };
    }
    const filter = buildFilter(rest, projectFolder(directory, io));
    // One by one, so the answer is exactly what was released, not what matched a moment earlier.
    const released: Allocation[] = [];
    for (const a of await client.list(filter)) {
      if (await releaseIfPresent(a.id, client)) released.push(a);
    }
    if (released.length === 0) {
      throw new PortError("not_found", `no allocations match ${describeFilter(filter)}`);
    }
    return { released };
  },
});

const list = defineTool({
  name: "list",
  title: "List allocations",
  description:
    "The ports registered for the project you work in (its app, every instance), or with all: true for every app on this machine. " +
    "Each allocation says whether something listens on its port right now. Use it before choosing ports, and to see what a checkout holds.",
  input: strictArgs({
    app: appArg.describe("Only this app. Default: the app detected from directory, unless all."),
    instance: optionalName("Only this instance."),
    service: optionalName("Only this service."),
    all: z.boolean().default(false).describe("Every app, not just the current one."),
    directory: directoryArg,
  }),
  output: z.object({
    allocations: z.array(listedAllocationOut),
    compose_projects: z
      .array(projectSchema)
      .describe("the Compose project names the listed apps' checkouts run their stacks under"),
  }),
  annotations: READ_ONLY,
  async run(args, { client, io }) {
    const q = listQuery(args, () => projectFolder(args.directory, io));
    const [rows, projects] = await Promise.all([
      client.list(q),
      client.projects({ app: q.app, instance: q.instance }),
    ]);
    const listening = systemProbe().listening();
    return {
      allocations: rows.map((a) => ({ ...a, listening: listening(a.port) })),
      compose_projects: projects,
    };
  },
});

const check = defineTool({
  name: "check",
  title: "Check a port",
  description:
    "Whether a port is free to use: available is false when the registry has it allocated (holder says to whom) or a process on this machine listens on it (system says which, where the OS tells). " +
    "Check a port before binding a number you did not get from allocate.",
  input: strictArgs({ port: portArg.describe("The port to check (1-65535).") }),
  output: portStatusOut,
  annotations: READ_ONLY,
  async run(args, { client, io }) {
    const status = await client.port(args.port);
    return { ...status, summary: checkLine(status, PLAIN, io.env.HOME) };
  },
});

const env = defineTool({
  name: "env",
  title: "Ports as environment variables",
  description:
    "The project's allocations as SERVICE_PORT variables (postgres → POSTGRES_PORT, web-api → WEB_API_PORT), and SERVICE_URL (http://web.shop.localhost:2080) for each service that serves HTTP, for a .env file or a command's environment.",
  input: strictArgs({ app: appArg, instance: instanceArg, directory: directoryArg }),
  output: z.object({
    app: z.string(),
    instance: z.string(),
    env: z
      .record(z.string(), z.union([z.number().int(), z.string()]))
      .describe("variable name → port, or URL for the _URL variables"),
    compose_project: z
      .string()
      .optional()
      .describe("the Compose project name this checkout's stack runs under (portctl run)"),
  }),
  annotations: READ_ONLY,
  async run(args, { client, io }) {
    const needsDir = args.app === undefined || args.instance === undefined;
    const dir = needsDir ? projectFolder(args.directory, io) : io.cwd;
    const { app, instance } = detectOwner(dir, args);
    const [rows, projects] = await Promise.all([
      client.list({ app, instance }),
      client.projects({ app, instance }),
    ]);
    const checkout = detectCheckoutPath(dir);
    const mine = projects.filter((p) => p.checkout === checkout);
    const project = mine.length === 1 ? { compose_project: mine[0]?.name as string } : {};
    return { app, instance, env: Object.fromEntries(envEntries(rows)), ...project };
  },
});

/** Every tool, in the order a host lists them. */
export const TOOLS: Tool[] = [
  allocate,
  release,
  list,
  check,
  env,
  scanTool,
  pruneTool,
  historyTool,
];

// --- internal ---

/** false when someone else released it between our list and our delete. */
async function releaseIfPresent(id: number, client: ToolContext["client"]): Promise<boolean> {
  try {
    await client.release(id);
    return true;
  } catch (err) {
    if (err instanceof PortError && err.code === "not_found") return false;
    throw err;
  }
}
