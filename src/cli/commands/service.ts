// `portctl service install|uninstall|status`: the daemon as a login service (a systemd user
// unit on Linux, a launchd agent on macOS), so it comes back after a reboot. A daemon started
// by hand is handed over: stopped, then started by the service manager.

import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { HEALTH_PROBE_TIMEOUT_MS, START_TIMEOUT_MS } from "../../core/config.ts";
import { PortError } from "../../core/errors.ts";
import { writeAtomic } from "../../core/files.ts";
import { Client, type Health } from "../client.ts";
import { startDaemon, stopDaemon } from "../daemon.ts";
import { serverSource } from "../identity.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";
import { type ServicePlan, servicePlan, systemServicePlan } from "../service/plan.ts";
import type { Platform } from "../service/units.ts";
import { inspect } from "../state.ts";

export interface ServiceOptions {
  dryRun?: boolean;
  json?: boolean;
  /** Tests render the other platform's plan; the CLI always uses this machine's. */
  platform?: Platform;
  /** The machine's one registry for every user (#28): a system service, installed by root. */
  system?: boolean;
}

/**
 * The manager is asked whether it can be reached before anything is touched; after that, any
 * failure puts everything back as it was (the file, the daemon started by hand) and says why.
 */
export async function serviceInstall(opts: ServiceOptions, io: Io): Promise<number> {
  const plan = planFor(opts, io);
  if (opts.dryRun) return printPlan(plan, plan.install, io);
  requireRoot(opts, "install");
  requireManager(plan, io);
  requireReachable(plan, io);
  const wasActive = run(plan.status, io).code === 0;
  const running = await new Client(io.env).health().catch(() => undefined);
  const undo = new Undo(plan, io);
  try {
    if (running && !wasActive) {
      const pid = await stopDaemon(await inspect(io));
      undo.restartDaemon = true;
      io.out(`stopped the daemon started by hand (pid ${pid}); the service manager starts it now`);
    }
    undo.keepFile(plan.file);
    writeAtomically(plan.file, plan.contents);
    // Reinstalling over a running service: unload it first so the new file takes effect.
    const steps = wasActive ? [...plan.uninstall, ...plan.install] : plan.install;
    undo.unload = true;
    for (const cmd of steps) mustRun(cmd, io);
    const health = await waitHealthy(io);
    if (!health) {
      throw new PortError(
        "daemon",
        `port-server did not answer within ${START_TIMEOUT_MS / 1000} s of being started by ${plan.manager}; see ${logHint(plan)}`,
      );
    }
    if (opts.json) printJson(io, { installed: true, file: plan.file, pid: health.pid });
    else io.out(`port-server service installed (${safe(plan.file)}), running (pid ${health.pid})`);
    return 0;
  } catch (err) {
    throw await undo.run(err);
  }
}

export async function serviceUninstall(opts: ServiceOptions, io: Io): Promise<number> {
  const plan = planFor(opts, io);
  if (opts.dryRun) return printPlan(plan, plan.uninstall, io, true);
  requireRoot(opts, "uninstall");
  if (!existsSync(plan.file)) {
    throw new PortError("not_found", `port-server service is not installed (${safe(plan.file)})`);
  }
  requireManager(plan, io);
  for (const cmd of plan.uninstall) {
    const res = run(cmd, io);
    // Unloading a service that is not loaded is fine: the file is what makes it come back.
    if (res.code !== 0) io.err(`warning: ${safe(`${cmd.join(" ")}: ${firstLine(res.stderr)}`)}`);
  }
  rmSync(plan.file, { force: true });
  if (opts.json) printJson(io, { installed: false, file: plan.file });
  else io.out(`port-server service removed (${safe(plan.file)}); the daemon is stopped`);
  return 0;
}

/** Always exit 0: reports the file, the service manager's view and the daemon's. */
export async function serviceStatus(opts: ServiceOptions, io: Io): Promise<number> {
  const plan = planFor(opts, io);
  const installed = existsSync(plan.file);
  const manager = Bun.which(plan.manager, { PATH: io.env.PATH ?? "" }) !== null;
  const active = manager && run(plan.status, io).code === 0;
  const health = await new Client(io.env).health().catch(() => undefined);
  if (opts.json) {
    printJson(io, {
      installed,
      file: plan.file,
      manager: plan.manager,
      active,
      pid: health?.pid ?? null,
    });
    return 0;
  }
  io.out(
    installed ? `service file: ${safe(plan.file)}` : `service: not installed (${safe(plan.file)})`,
  );
  if (!manager) io.out(`${plan.manager}: not found on this machine`);
  else io.out(`${plan.manager}: ${active ? "active" : "not active"}`);
  io.out(health ? `daemon: running (pid ${safe(health.pid)})` : "daemon: not running");
  return 0;
}

// --- internal ---

function planFor(opts: ServiceOptions, io: Io): ServicePlan {
  const platform = opts.platform ?? hostPlatform();
  const source = serverSource();
  if (opts.system) {
    return systemServicePlan({
      platform,
      env: io.env,
      execPath: process.execPath,
      ...(source ? { sourceEntry: source } : {}),
    });
  }
  return servicePlan({
    platform,
    env: io.env,
    home: io.home,
    uid: process.getuid?.() ?? 0,
    execPath: process.execPath,
    ...(source ? { sourceEntry: source } : {}),
  });
}

function hostPlatform(): Platform {
  if (process.platform === "linux" || process.platform === "darwin") return process.platform;
  throw new PortError(
    "bad_request",
    `portctl service supports Linux (systemd) and macOS (launchd), not ${process.platform}`,
  );
}

function printPlan(plan: ServicePlan, steps: string[][], io: Io, removing = false): number {
  if (removing) io.out(`# remove ${plan.file} after running:`);
  else {
    io.out(`# ${plan.file}`);
    io.out(plan.contents.trimEnd());
    io.out("# then run:");
  }
  for (const cmd of steps) io.out(cmd.map(shellQuote).join(" "));
  return 0;
}

/** A system service is written to /etc (or /Library) and run by the system manager: root only. */
function requireRoot(opts: ServiceOptions, action: string): void {
  if (!opts.system || process.getuid?.() === 0) return;
  throw new PortError(
    "daemon",
    `service ${action} --system needs root: run it with sudo (--dry-run prints what it would do)`,
  );
}

function requireManager(plan: ServicePlan, io: Io): void {
  if (Bun.which(plan.manager, { PATH: io.env.PATH ?? "" }) === null) {
    throw new PortError(
      "daemon",
      `${plan.manager} not found: this machine has no ${plan.platform === "darwin" ? "launchd" : plan.install[0]?.includes("--user") ? "systemd user manager" : "systemd"}; \`portctl service install --dry-run\` prints the file and commands`,
    );
  }
}

function requireReachable(plan: ServicePlan, io: Io): void {
  const res = run(plan.reachable, io);
  if (res.code === 0) return;
  const system = !plan.install[0]?.includes("--user") && !plan.reachable.includes("gui");
  const what =
    plan.platform === "linux"
      ? system
        ? "systemctl cannot reach the system's service manager"
        : "systemctl --user cannot reach your user's service manager"
      : system
        ? "launchctl cannot reach the system domain"
        : "launchctl cannot reach your login session";
  throw new PortError(
    "daemon",
    `${what} (${safe(firstLine(res.stderr))}), as in SSH sessions, containers and WSL; nothing was changed: run the daemon with portctl start, or see portctl service install --dry-run`,
  );
}

/** What install changed, put back when a later step fails. */
class Undo {
  restartDaemon = false;
  unload = false;
  #file?: { path: string; before: string | undefined };

  constructor(
    private readonly plan: ServicePlan,
    private readonly io: Io,
  ) {}

  keepFile(path: string): void {
    this.#file = { path, before: existsSync(path) ? readFileSync(path, "utf8") : undefined };
  }

  /** Puts things back, best effort; returns the error to report, saying what was restored. */
  async run(err: unknown): Promise<unknown> {
    const restored: string[] = [];
    if (this.unload) for (const cmd of this.plan.uninstall) run(cmd, this.io);
    if (this.#file) {
      const { path, before } = this.#file;
      if (before === undefined) rmSync(path, { force: true });
      else writeAtomically(path, before);
      restored.push(before === undefined ? "no service file left" : "the service file restored");
    }
    if (this.restartDaemon) {
      const started = await startDaemon(this.io).catch(() => undefined);
      restored.push(
        started
          ? `the daemon running again (pid ${started.pid})`
          : "the daemon could not be restarted: portctl start",
      );
    }
    if (!(err instanceof PortError) || restored.length === 0) return err;
    return new PortError(
      err.code,
      `${err.message}; put back: ${restored.join(", ")}`,
      err.holder,
      err.details,
    );
  }
}

function run(cmd: string[], io: Io): { code: number; stderr: string } {
  const res = Bun.spawnSync(cmd, {
    env: io.env,
    stdout: "ignore",
    stderr: "pipe",
    timeout: 15_000,
  });
  return { code: res.exitCode ?? 1, stderr: res.stderr.toString() };
}

function mustRun(cmd: string[], io: Io): void {
  const res = run(cmd, io);
  if (res.code !== 0) {
    throw new PortError("daemon", `${cmd.join(" ")} failed: ${safe(firstLine(res.stderr))}`);
  }
}

async function waitHealthy(io: Io): Promise<Health | undefined> {
  const client = new Client(io.env);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const health = await client.health(HEALTH_PROBE_TIMEOUT_MS).catch(() => undefined);
    if (health) return health;
    await Bun.sleep(100);
  }
  return undefined;
}

/** The file in place at once (core's writeAtomic: an exclusive random temp name, then rename). */
function writeAtomically(file: string, contents: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeAtomic(file, contents, 0o644);
}

function logHint(plan: ServicePlan): string {
  return plan.platform === "linux"
    ? `journalctl ${plan.install[0]?.includes("--user") ? "--user " : ""}-u port-server`
    : "the port-server.log in the state folder";
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] || "no output";
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
