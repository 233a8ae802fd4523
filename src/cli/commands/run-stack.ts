// `portctl run -- docker compose …`: the stack runs under this checkout's own Compose project
// name, and the commands that start containers (up, create, run, start, restart; config shows
// what up would run) get every movable host port of the services they start allocated. The
// others (down, ps, logs, exec…) get the ports this checkout holds, and allocate nothing: a
// second clone can look at or stop its own stack without --instance.
import { existsSync } from "node:fs";
import { relative } from "node:path";
import {
  composeProjectFolders,
  engineSockets,
  isEngineProcess,
  systemEngine,
} from "../../core/engine.ts";
import { PortError } from "../../core/errors.ts";
import { withContainer } from "../../core/holder.ts";
import type { Allocation } from "../../core/model.ts";
import { systemProbe } from "../../core/probe.ts";
import type { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner } from "../detect.ts";
import { envKey } from "../envfile.ts";
import type { Io } from "../io.ts";
import { processText, safe } from "../output.ts";
import {
  allocateStackPort,
  loadStack,
  type Stack,
  type StackPort,
  stackPorts,
} from "../run/compose.ts";
import { parseComposeArgs, STARTS_CONTAINERS } from "../run/compose-args.ts";
import { NOT_HTTP_PORTS, probeHttp } from "../run/http-probe.ts";
import { checkoutUrls, leaseNote, type RunOptions } from "./run.ts";

export type Env = Record<string, string | undefined>;

export interface StackContext {
  client: Client;
  /** Allocations leased to this run: released when it ends. */
  leased: Allocation[];
  who: { app: string; instance: string; checkout: string; lease_pid?: number };
  start: (argv: string[], env: Env) => Promise<number>;
}

export async function runStack(opts: RunOptions, io: Io, ctx: StackContext): Promise<number> {
  if (opts.service || opts.env?.length) {
    throw new PortError(
      "bad_request",
      "--service and --env do not apply to a Compose stack: each service gets its own port",
    );
  }
  // `docker compose`, `version`, `help`: nothing of the project is read, nothing to allocate.
  const sub0 = parseComposeArgs(opts.command).subcommand;
  if (sub0 === undefined || sub0 === "version" || sub0 === "help") {
    return ctx.start(opts.command, { ...io.env });
  }
  const stack = loadStack(opts.command, io.cwd, io.env);
  const env: Env = { ...io.env, COMPOSE_PROJECT_NAME: await projectName(stack, opts, io, ctx) };
  const ports = stackPorts(stack, (p) => relative(io.cwd, p) || p);
  const sub = stack.args.subcommand ?? "";
  /** Services whose port may serve HTTP and has no URL yet: asked once they run. */
  const unknown: Allocation[] = [];
  if (STARTS_CONTAINERS.has(sub) || sub === "config") {
    const taken: Allocation[] = [];
    for (const port of ports) {
      if (!port.variable || (port.block && !port.block.endVariable)) {
        io.err(cannotMove(port));
        continue;
      }
      const rows = await allocateStackPort(ctx.client, ctx.who, port);
      for (const a of rows) if (a.lease_pid === process.pid) ctx.leased.push(a);
      setVariables(env, port, rows);
      io.err(startLine(port.service, rows));
      if (BINDS.has(sub)) taken.push(...rows);
      const a = rows[0] as Allocation;
      if (rows.length === 1 && !a.url && mayServeHttp(port)) unknown.push(a);
    }
    if (ctx.leased.length) io.err(leaseNote(ctx.leased).trim());
    await refuseTaken(taken, env.COMPOSE_PROJECT_NAME ?? "", io);
  } else {
    const held = await ctx.client.list({ app: ctx.who.app, instance: ctx.who.instance });
    for (const port of ports) {
      const rows = heldBy(held, port, ctx.who.checkout);
      if (port.variable && rows.length) setVariables(env, port, rows);
    }
  }
  // The checkout's HTTP services' URLs, for the stack's own ${API_URL} (names.ts).
  Object.assign(env, await checkoutUrls(ctx.client, ctx.who));
  // Which of the started services answer HTTP: asked while a foreground `up` runs, or once a
  // detached one has returned; each that does is marked, gets its URL and says it.
  const probed = PROBED.has(sub) && unknown.length > 0;
  const detached = sub !== "up" || detachedUp(opts.command);
  const stop = { stopped: false };
  const probing =
    probed && !detached
      ? markHttpServices(unknown, FOREGROUND_PROBE_MS, { stop, awaitListener: true }, io, ctx)
      : null;
  const code = await ctx.start(opts.command, env);
  stop.stopped = true;
  await probing;
  // A failure that is not a signal's: was it the docker CLI not knowing `compose` at all?
  const hint = code > 0 && code < 128 ? noPluginHint(opts.command, env) : undefined;
  if (hint) io.err(hint);
  if (probed && detached && code === 0) {
    await markHttpServices(unknown, DETACHED_PROBE_MS, {}, io, ctx);
  }
  return code;
}

/**
 * `docker compose` where the docker CLI has no Compose plugin (Debian's docker.io with
 * docker-compose 1.29): docker says `unknown shorthand flag: 'd' in -d` (125) or `unknown
 * command` (1), which name no cause. Asked only after a failure.
 */
function noPluginHint(argv: readonly string[], env: Env): string | undefined {
  if (argv[0] !== "docker" || argv[1] !== "compose") return undefined;
  const probe = Bun.spawnSync(["docker", "compose", "version"], {
    env: env as Record<string, string>,
    stdout: "ignore",
    stderr: "ignore",
  });
  if (probe.exitCode === 0) return undefined;
  const v1 = Bun.which("docker-compose", { PATH: env.PATH ?? "" }) !== null;
  return v1
    ? `hint: this docker has no Compose plugin ("docker compose"); run it as docker-compose: portctl run -- docker-compose ${safe(argv.slice(2).join(" "))}`
    : 'hint: this docker has no Compose plugin ("docker compose"): install docker-compose-plugin, or docker-compose';
}

/** The subcommands after which the stack's services run (and may be asked). */
const PROBED = new Set(["up", "start", "restart"]);
/** How long a detached stack's servers have to answer (their apps may still be starting). */
const DETACHED_PROBE_MS = 8_000;
/** How long a foreground `up` is watched for them (images may still be built). */
const FOREGROUND_PROBE_MS = 120_000;

/**
 * Asks each service's port whether it answers HTTP (cli/run/http-probe.ts), all at once, until
 * `ms` have passed; marks those that do (`allocate --reuse --http`) and prints their URL.
 */
async function markHttpServices(
  rows: Allocation[],
  ms: number,
  opts: { stop?: { stopped: boolean }; awaitListener?: boolean },
  io: Io,
  ctx: StackContext,
): Promise<void> {
  const deadline = Date.now() + ms;
  await Promise.all(
    rows.map(async (a) => {
      const r = await probeHttp(a.port, a.name ?? "localhost", deadline, opts);
      // Nothing listens at all: the service was not started (`up -d api` starts api alone).
      if (r === "unanswered" && !opts.stop?.stopped) {
        io.err(
          `${safe(a.service)}: nothing answered on ${a.port} within ${ms / 1000} s; if it serves HTTP, it gets its URL with its first answer through its name, or now with: portctl allocate --service ${safe(a.service)} --reuse --http`,
        );
      }
      if (r !== "http") return;
      try {
        const { allocation } = await ctx.client.allocate(
          { ...ctx.who, service: a.service, port: a.port, http: true },
          { reuse: true },
        );
        io.err(startLine(a.service, [allocation]));
      } catch (err) {
        io.err(
          `note: ${safe(a.service)} answers HTTP but could not be marked so: ${safe((err as Error).message)}`,
        );
      }
    }),
  );
}

/** `up -d`, `up --detach`, `up --wait`: Compose returns once the containers run. */
function detachedUp(argv: readonly string[]): boolean {
  const at = argv.indexOf("up");
  for (const a of argv.slice(at + 1)) {
    if (a === "--") break;
    if (a === "--detach" || a === "--wait" || /^-[a-zA-Z]*d[a-zA-Z]*$/.test(a)) return true;
  }
  return false;
}

/** A single TCP port whose container port is not a well-known database's. */
function mayServeHttp(port: StackPort): boolean {
  if (port.block || port.protocol === "udp") return false;
  return port.target === undefined || !NOT_HTTP_PORTS.has(port.target);
}

/** `api → 8080`, `cache → 9000-9001`, or with its URL: `api → http://api.shop.localhost:2080 (port 8080)`. */
function startLine(service: string, rows: Allocation[]): string {
  const url = rows.length === 1 ? rows[0]?.url : null;
  return `${safe(service)} → ${url ? `${safe(url)} (port ${rows[0]?.port})` : portsText(rows)}`;
}

// --- internal ---

/** The subcommands that bind the published ports on the host. */
const BINDS = new Set(["up", "start", "restart"]);

/**
 * Before Compose binds the ports: one held by anything but this stack's own containers (a
 * dev server, another project's container) is refused with its holder and how to move the
 * service, as `run` does for a dev server, rather than Compose's "address already in use"
 * after it has started half the stack. A port behind an engine that does not say whose
 * container it is, is left to Compose (it may be this stack's).
 */
async function refuseTaken(rows: Allocation[], project: string, io: Io): Promise<void> {
  if (rows.length === 0) return;
  const probe = systemProbe();
  const listening = probe.listening();
  const engine = systemEngine(io.env);
  for (const a of rows) {
    if (!listening(a.port)) continue;
    const sys = await withContainer(probe.who(a.port), a.port, engine);
    if (sys.container ? sys.container.project === project : isEngineProcess(sys.process)) continue;
    throw new PortError(
      "port_in_use",
      `${safe(a.service)} → ${a.port} is already in use${processText(sys, io.env.HOME)}: not this stack's; stop it, or move the service: ${safe(`portctl release --service ${a.service} --instance ${a.instance}`)}, then run again`,
    );
  }
}

/**
 * The name the stack runs under: the one the user gave (refused if another checkout holds it,
 * unless --force), else the one Compose would pick, else this checkout's own, said once a run.
 */
async function projectName(stack: Stack, opts: RunOptions, io: Io, ctx: StackContext) {
  const name = stack.explicit ?? stack.natural;
  const { projectNameSchema } =
    require("../../core/model.ts") as typeof import("../../core/model.ts");
  const checked = projectNameSchema.safeParse(name);
  if (!checked.success) {
    const what = stack.explicit ? "the project name given" : "the project name Compose would pick";
    throw new PortError(
      "bad_request",
      `${what} (${safe(name) || "empty"}) ${checked.error.issues[0]?.message}`,
    );
  }
  if (!stack.explicit) await recordExistingStack(name, io, ctx);
  const p = await ctx.client.claimProject({
    name,
    ...(stack.explicit ? { explicit: true } : {}),
    ...(opts.force ? { force: true } : {}),
    app: ctx.who.app,
    instance: ctx.who.instance,
    checkout: ctx.who.checkout,
  });
  if (p.name !== name) {
    io.err(
      `Compose project ${safe(name)} belongs to another checkout; this checkout's stack is ${safe(p.name)}`,
    );
  }
  if (p.taken_over_from) {
    io.err(
      `Compose project ${safe(p.name)} taken over from the checkout at ${safe(p.taken_over_from)}`,
    );
  }
  return p.name;
}

/**
 * A stack Compose already runs under `name` for another folder (made by plain `docker compose
 * up` before port-server knew of it) keeps its name: the registry records the name for that
 * folder's checkout first, so this checkout gets one of its own instead of recreating the other
 * stack's containers and mounting its volumes. The registry, once it holds the name, decides.
 */
async function recordExistingStack(name: string, io: Io, ctx: StackContext): Promise<void> {
  if ((await ctx.client.projects({ name })).some((p) => p.name === name)) return;
  for (const folder of await composeProjectFolders(engineSockets(io.env), name)) {
    if (!existsSync(folder)) continue; // a stack whose folder is gone holds nothing
    const checkout = detectCheckoutPath(folder);
    if (checkout === ctx.who.checkout) return; // this checkout's own stack
    let owner = { app: ctx.who.app, instance: ctx.who.instance };
    try {
      owner = detectOwner(checkout);
    } catch {
      // A folder that gives no name (snag 4): the row still says which checkout holds it.
    }
    try {
      await ctx.client.claimProject({ name, ...owner, checkout });
    } catch (err) {
      // Another user's checkout already holds it in the registry (#28): the registry decides,
      // and says nothing of their folder.
      if (err instanceof PortError && err.code === "not_yours") return;
      throw err;
    }
    io.err(
      `Compose project ${safe(name)} is already running for ${safe(checkout)}; recorded as its own`,
    );
    return;
  }
}

/** `cache → 9000-9001`, `web → 8080`. */
function portsText(rows: Allocation[]): string {
  const first = rows[0]?.port;
  const last = rows.at(-1)?.port;
  return rows.length > 1 ? `${first}-${last}` : String(first);
}

function setVariables(env: Env, port: StackPort, rows: Allocation[]): void {
  const first = rows[0] as Allocation;
  env[envKey(first.service)] = String(first.port);
  if (port.variable) env[port.variable] = String(first.port);
  if (port.block?.endVariable) env[port.block.endVariable] = String(rows.at(-1)?.port);
}

/** The rows this checkout holds for a port (a block's, first port first). */
function heldBy(held: Allocation[], port: StackPort, checkout: string): Allocation[] {
  const first = held.find((a) => a.service === port.service);
  if (!first || (first.checkout !== null && first.checkout !== checkout)) return [];
  if (first.block_id === null) return [first];
  return held.filter((a) => a.block_id === first.block_id).sort((a, b) => a.port - b.port);
}

/** The same one line for a literal host port and a host range that cannot be moved. */
function cannotMove(port: StackPort): string {
  const key = envKey(port.service);
  const service = safe(port.service);
  const source = safe(port.source);
  if (!port.block) {
    return `${service}: host port ${port.preferred} is written as a number (${source}) and cannot be moved; portctl scan --fix makes it \${${key}:-${port.preferred}}`;
  }
  const first = port.preferred ?? 0;
  const last = first + port.block.count - 1;
  const fix = `\${${key}:-${first}}-\${${key}_END:-${last}}`;
  return !port.block.literal
    ? `${service}: host ports ${first}-${last} (${source}) cannot be moved: each end of the range must be one variable, as in ${fix}`
    : `${service}: host ports ${first}-${last} are written as numbers (${source}) and cannot be moved; portctl scan --fix makes them ${fix}`;
}
