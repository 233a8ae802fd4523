// `portctl run [--service S] [--] CMD [ARGS...]`: the checkout's registered port for a service
// (allocated with reuse), handed to a dev server as PORT, <SERVICE>_PORT, {port} and, for tools
// that ignore PORT, their own port flag. Then the server runs in the foreground until it ends.
import { basename, relative, resolve } from "node:path";
import {
  RUN_COMPOSE_STOP_GRACE_MS,
  RUN_DEFAULT_SERVICE,
  RUN_KILL_GRACE_MS,
  RUN_STOP_GRACE_MS,
} from "../../core/config.ts";
import { systemEngine } from "../../core/engine.ts";
import { PortError } from "../../core/errors.ts";
import { readText } from "../../core/files.ts";
import { withContainer } from "../../core/holder.ts";
import type { Allocation } from "../../core/model.ts";
import { systemProbe } from "../../core/probe.ts";
import { scriptService } from "../../core/scan/scripts.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner, findCheckout } from "../detect.ts";
import { envKey, urlEntries } from "../envfile.ts";
import { ownInstance } from "../instance.ts";
import type { Io } from "../io.ts";
import { owner, processText, safe } from "../output.ts";
import { exec, NOT_FOUND_EXIT } from "../run/child.ts";
import { isComposeCommand } from "../run/compose.ts";
import { fixedPort, planCommand, scriptCall } from "../run/plan.ts";
import type { StopPolicy } from "../run/stopper.ts";
import { type Listening, watchPort } from "../run/watch.ts";
import { type Env, runStack } from "./run-stack.ts";

export interface RunOptions {
  app?: string;
  instance?: string;
  service?: string;
  /** More variable names to set to the port (`--env VITE_PORT`). */
  env?: string[];
  /** The allocations end with the run (portctl's own pid is their lease). */
  lease?: boolean;
  /** `--no-inject`: no framework flag is added. */
  noInject?: boolean;
  /** Compose: take an explicit project name another checkout holds. */
  force?: boolean;
  command: string[];
}

export async function run(opts: RunOptions, io: Io): Promise<number> {
  const cmd = opts.command[0] ?? "";
  // Before anything is allocated or printed: a typo in the command starts nothing.
  if (!Bun.which(cmd, { PATH: io.env.PATH ?? "", cwd: io.cwd })) {
    io.err(`error: cannot run ${safe(cmd)}: command not found`);
    return NOT_FOUND_EXIT;
  }
  const client = new Client(io.env);
  // A second clone on the same branch that ran once with --instance: that instance again.
  if (opts.instance === undefined) {
    const { app, instance } = detectOwner(io.cwd, opts);
    const rows = await client.list({ app, instance });
    const own = await ownInstance(client, app, rows, io.cwd).catch(() => undefined);
    if (own) opts = { ...opts, instance: own.instance };
  }
  // Leased allocations end with the run: released here, or by the daemon if portctl is killed.
  const leased: Allocation[] = [];
  try {
    if (isComposeCommand(opts.command)) {
      const who = whoRuns(opts, io);
      const ctx = {
        client,
        leased,
        who,
        start: (argv: string[], env: Env) => start(argv, env, io, COMPOSE_STOP),
      };
      return await runStack(opts, io, ctx);
    }
    return await runServer(opts, io, client, leased);
  } finally {
    for (const a of leased) await client.release(a.id).catch(() => undefined);
  }
}

/**
 * `--service` default: below the repository's top folder, the current folder's name
 * (`apps/admin` → `admin`, one dev server per package of a monorepo); at the top or outside a
 * repository, `web`. A package.json script is named by the rule `scan --register` follows
 * (core/scan/scripts.ts): its package's name for dev/start/serve, `<package>-<script>` else.
 */
export function defaultService(cwd: string, command: readonly string[] = []): string {
  const call = scriptCall(command, cwd);
  const root = findCheckout(cwd)?.top;
  const here = call?.dir ?? resolve(cwd);
  let rel = root ? relative(root, here) : "";
  if (rel.startsWith("..")) rel = "";
  let folder = "";
  if (rel !== "") {
    const { nameSchema } = require("../../core/fields.ts") as typeof import("../../core/fields.ts");
    const parsed = nameSchema.safeParse(basename(here));
    if (!parsed.success) {
      throw new PortError(
        "bad_request",
        `this folder's name cannot be a service name (${parsed.error.issues[0]?.message}); pass --service`,
      );
    }
    folder = parsed.data;
  }
  if (call?.dir) return scriptService(folder, call.name);
  return folder === "" ? RUN_DEFAULT_SERVICE : folder;
}

/** `<SERVICE>_URL` of every HTTP service of this checkout (so the web app gets API_URL). */
export async function checkoutUrls(client: Client, who: { app: string; instance: string }) {
  const rows = await client.list({ app: who.app, instance: who.instance });
  return Object.fromEntries(urlEntries(rows).map(([k, v]) => [k, String(v)]));
}

// --- internal ---

/** A dev server: one service, its port in PORT, <SERVICE>_PORT, {port} and the tool's flag. */
async function runServer(opts: RunOptions, io: Io, client: Client, leased: Allocation[]) {
  const service = opts.service ?? defaultService(io.cwd, opts.command);
  // `vite --port 5173`, or a script that says so: that is where the server will listen, so
  // that is the port to register (or to refuse), never another one nothing will listen on.
  const fixed = fixedPort(opts.command, { inject: true, cwd: io.cwd, env: io.env });
  // A dev server speaks HTTP: its allocation gets a URL under .localhost.
  const who = { ...whoRuns(opts, io), service, http: true };
  const a = fixed
    ? await allocateFixed(client, who, fixed, io)
    : (await client.allocate({ ...who, port: 0 }, { reuse: true })).allocation;
  if (a.lease_pid === process.pid) leased.push(a);
  await refuseIfListening(a, io);
  const plan = planCommand(opts.command, {
    port: a.port,
    inject: !opts.noInject,
    cwd: io.cwd,
    env: io.env,
  });
  if (plan.ownPort) {
    io.err(
      `note: ${plan.ownPort.tool} was given port ${safe(plan.ownPort.port)}; ${owner(a)} is registered on ${a.port}`,
    );
  }
  const env = {
    ...io.env,
    ...(await checkoutUrls(client, a)),
    ...plan.injected?.env,
    PORT: String(a.port),
    [envKey(a.service)]: String(a.port),
  };
  for (const name of opts.env ?? []) env[name] = String(a.port);
  const where = a.url ? `${safe(a.url)} (port ${a.port})` : `http://localhost:${a.port}`;
  io.err(`${owner(a)} → ${where}${leaseNote(leased)}`);
  return start(plan.argv, env, io, SERVER_STOP, a);
}

/**
 * The port the command fixes, registered for the service. A registration of this checkout on
 * another port moves to it (put back if the move fails); a port another service holds, or
 * something else listens on, is refused with what the command said.
 */
async function allocateFixed(
  client: Client,
  who: { app: string; instance: string; service: string; checkout?: string; lease_pid?: number },
  fixed: { tool: string; port: number },
  io: Io,
): Promise<Allocation> {
  const req = { ...who, port: fixed.port };
  const said = `${fixed.tool} is given port ${fixed.port} by the command`;
  try {
    return (await client.allocate(req, { reuse: true })).allocation;
  } catch (err) {
    if (!(err instanceof PortError)) throw err;
    const old = err.holder;
    if (
      err.code === "service_allocated" &&
      old &&
      (!old.checkout || old.checkout === who.checkout)
    ) {
      await client.release(old.id);
      try {
        const moved = (await client.allocate(req, { reuse: true })).allocation;
        io.err(`note: ${owner(moved)} moved from port ${old.port} to ${moved.port}: ${said}`);
        return moved;
      } catch (again) {
        await client.allocate({ ...who, port: old.port }).catch(() => undefined);
        throw again instanceof PortError ? refusal(again, said) : again;
      }
    }
    throw refusal(err, said);
  }
}

/** A refusal of the command's own port says so: `port 5173 … (vite is given port 5173 …)`. */
function refusal(err: PortError, said: string): PortError {
  if (err.code !== "port_allocated" && err.code !== "port_in_use") return err;
  const { CLI_ERRORS } = require("../errors.ts") as typeof import("../errors.ts");
  const line = CLI_ERRORS[err.code].line(err);
  return new PortError(err.code, `${line} (${said}); free it, or drop the command's port`);
}

/** Who the allocations are for: this checkout, and with --lease this very run. */
function whoRuns(opts: RunOptions, io: Io) {
  return {
    ...detectOwner(io.cwd, opts),
    checkout: detectCheckoutPath(io.cwd),
    ...(opts.lease ? { lease_pid: process.pid } : {}),
  };
}

export function leaseNote(leased: Allocation[]): string {
  return leased.length ? " (leased: released when this run ends)" : "";
}

/** A dev server's whole tree gets the signal, as from a terminal. */
const SERVER_STOP = { graceMs: RUN_STOP_GRACE_MS, killMs: RUN_KILL_GRACE_MS, wholeTree: true };
/** Compose alone gets it: it stops its containers, and counts a second signal as "force". */
const COMPOSE_STOP = {
  graceMs: RUN_COMPOSE_STOP_GRACE_MS,
  killMs: RUN_KILL_GRACE_MS,
  wholeTree: false,
};

async function start(
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io,
  stop: StopPolicy,
  watch?: Allocation,
) {
  // The server should end up on the registered port; if it listens only elsewhere, say so.
  const onSpawn =
    watch &&
    ((pid: number) => watchPort(pid, watch.port, (seen) => io.err(elsewhere(watch, seen))));
  try {
    return await exec(argv, {
      env,
      cwd: io.cwd,
      stop,
      warn: (line) => io.err(line),
      ...(onSpawn ? { onSpawn } : {}),
    });
  } catch (err) {
    io.err(`error: cannot run ${safe(argv[0])}: ${safe(startFailure(err))}`);
    return NOT_FOUND_EXIT;
  }
}

/**
 * Something already listens on the port: most likely this very dev server, started before; a
 * container publishing it (the engine says which) is not, and neither is anything else that
 * the user knows is not theirs: the line says how to move this service.
 */
async function refuseIfListening(a: Allocation, io: Io): Promise<void> {
  const probed = systemProbe().who(a.port);
  if (!probed.in_use) return;
  const sys = await withContainer(probed, a.port, systemEngine(io.env));
  const move = `portctl release --service ${a.service}${a.instance === "" ? "" : ` --instance ${a.instance}`}, then run again for another port`;
  const why = sys.container
    ? `: not this checkout's dev server; stop it, or move this service: ${move}`
    : ` — is the dev server already running? If it is not yours: ${move}`;
  throw new PortError(
    "port_in_use",
    safe(`port ${a.port} (${owner(a)}) is already in use`) +
      processText(sys, io.env.HOME) +
      safe(why),
  );
}

/** `warning: myapp/main/web is registered on 3000, but the server listens on 8000 (python3, pid 12)…` */
function elsewhere(a: Allocation, seen: Listening[]): string {
  const ports = seen.slice(0, 3).map((l) => {
    const name = readText(`/proc/${l.pid}/comm`)?.trim();
    return `${l.port} (${name ? `${safe(name)}, ` : ""}pid ${l.pid})`;
  });
  return `warning: ${owner(a)} is registered on ${a.port}, but the server listens on ${ports.join(", ")}: pass it the port ({port} in its arguments, or --env with its variable), or write the port in the command so run registers that one`;
}

function startFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "command not found";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}
