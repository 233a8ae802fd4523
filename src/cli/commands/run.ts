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
import { PortError } from "../../core/errors.ts";
import type { Allocation } from "../../core/model.ts";
import { systemProbe } from "../../core/probe.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner, findCheckout } from "../detect.ts";
import { envKey, urlEntries } from "../envfile.ts";
import type { Io } from "../io.ts";
import { owner, processText, safe } from "../output.ts";
import { exec, NOT_FOUND_EXIT } from "../run/child.ts";
import { isComposeCommand } from "../run/compose.ts";
import { planCommand } from "../run/plan.ts";
import type { StopPolicy } from "../run/stopper.ts";
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
 * repository, `web`.
 */
export function defaultService(cwd: string): string {
  const root = findCheckout(cwd)?.top;
  const here = resolve(cwd);
  if (!root || relative(root, here) === "") return RUN_DEFAULT_SERVICE;
  const { nameSchema } = require("../../core/fields.ts") as typeof import("../../core/fields.ts");
  const parsed = nameSchema.safeParse(basename(here));
  if (!parsed.success) {
    throw new PortError(
      "bad_request",
      `this folder's name cannot be a service name (${parsed.error.issues[0]?.message}); pass --service`,
    );
  }
  return parsed.data;
}

/** `<SERVICE>_URL` of every HTTP service of this checkout (so the web app gets API_URL). */
export async function checkoutUrls(client: Client, who: { app: string; instance: string }) {
  const rows = await client.list({ app: who.app, instance: who.instance });
  return Object.fromEntries(urlEntries(rows).map(([k, v]) => [k, String(v)]));
}

// --- internal ---

/** A dev server: one service, its port in PORT, <SERVICE>_PORT, {port} and the tool's flag. */
async function runServer(opts: RunOptions, io: Io, client: Client, leased: Allocation[]) {
  const service = opts.service ?? defaultService(io.cwd);
  // A dev server speaks HTTP: its allocation gets a URL under .localhost.
  const { allocation: a } = await client.allocate(
    { ...whoRuns(opts, io), service, port: 0, http: true },
    { reuse: true },
  );
  if (a.lease_pid === process.pid) leased.push(a);
  refuseIfListening(a);
  const plan = planCommand(opts.command, { port: a.port, inject: !opts.noInject, cwd: io.cwd });
  if (plan.ownPort) {
    io.err(
      `note: ${plan.ownPort.tool} was given port ${safe(plan.ownPort.port)}; ${owner(a)} is registered on ${a.port}`,
    );
  }
  const env = {
    ...io.env,
    ...(await checkoutUrls(client, a)),
    PORT: String(a.port),
    [envKey(a.service)]: String(a.port),
  };
  for (const name of opts.env ?? []) env[name] = String(a.port);
  const where = a.url ? `${safe(a.url)} (port ${a.port})` : `http://localhost:${a.port}`;
  io.err(`${owner(a)} → ${where}${leaseNote(leased)}`);
  return start(plan.argv, env, io, SERVER_STOP);
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
) {
  try {
    return await exec(argv, { env, cwd: io.cwd, stop, warn: (line) => io.err(line) });
  } catch (err) {
    io.err(`error: cannot run ${safe(argv[0])}: ${safe(startFailure(err))}`);
    return NOT_FOUND_EXIT;
  }
}

/** Something already listens on the port: most likely this very dev server, started before. */
function refuseIfListening(a: Allocation): void {
  const sys = systemProbe().who(a.port);
  if (!sys.in_use) return;
  throw new PortError(
    "port_in_use",
    `port ${a.port} (${owner(a)}) is already in use${processText(sys)} — is the dev server already running?`,
  );
}

function startFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "command not found";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}
