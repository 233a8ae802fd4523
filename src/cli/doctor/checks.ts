// The checks of `portctl doctor`, each a plain function of what it needs (the environment,
// the daemon's /healthz answer, the file system) returning one verdict with the command that
// fixes a failure. The daemon's database is checked through /healthz, never opened here.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  DEFAULT_PORT,
  DEFAULT_RANGE,
  ENV,
  type Env,
  formatRange,
  parseAddress,
  parseExclusions,
  parseRange,
  statePaths,
} from "../../core/config.ts";
import { stateFolderProblem } from "../../core/files.ts";
import { SKILL_FILES } from "../../skill/files.ts";
import { GLOBAL_TARGETS, PROJECT_TARGETS, skillDir } from "../../skill/install.ts";
import type { Health } from "../client.ts";
import { findCheckout } from "../detect.ts";
import { type OtherUser, otherUserLine, pidText } from "../identity.ts";
import { type Taken, takenLine } from "../taken.ts";

export type Verdict = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: Verdict;
  message: string;
  /** The command (or step) that fixes a warning or failure. */
  fix?: string;
}

export function daemonCheck(
  health: Health | undefined,
  address: string,
  foreign?: string,
  taken?: Taken,
  other?: OtherUser,
): Check {
  if (other) return { name: "daemon", status: "ok", message: otherUserLine(other, address) };
  if (health && foreign) {
    return {
      name: "daemon",
      status: "fail",
      message: `what answers at ${address} is not this registry's daemon (pid ${pidText(health.pid)}: ${foreign})`,
      fix: taken?.fix ?? "stop it, or set PORT_SERVER_ADDR to 127.0.0.1:<a free port>",
    };
  }
  if (!health && taken) {
    // `portctl start` could only fail there.
    return { name: "daemon", status: "fail", message: takenLine(taken), fix: taken.fix };
  }
  if (!health) {
    return {
      name: "daemon",
      status: "fail",
      message: `port-server is not running at ${address}`,
      fix: "portctl start",
    };
  }
  return {
    name: "daemon",
    status: "ok",
    message: `port-server is running (pid ${health.pid}) at ${address}`,
  };
}

/** After an upgrade the old daemon keeps running: its version must be the CLI's. */
export function versionCheck(health: Health | undefined, cliVersion: string): Check | undefined {
  if (!health) return undefined;
  const daemon = typeof health.version === "string" ? health.version : "unknown";
  if (daemon === cliVersion) {
    return {
      name: "version",
      status: "ok",
      message: `portctl and the daemon are both ${cliVersion}`,
    };
  }
  return {
    name: "version",
    status: "fail",
    message: `the daemon is version ${daemon} but portctl is ${cliVersion}`,
    fix: "portctl restart",
  };
}

export function integrityCheck(integrity: string | undefined, db: string): Check | undefined {
  if (integrity === undefined) return undefined;
  if (integrity === "ok") return { name: "database", status: "ok", message: `${db}: integrity ok` };
  return {
    name: "database",
    status: "fail",
    message: `${db}: ${integrity.split("\n")[0]}`,
    fix: `portctl stop, keep a copy of ${db}, then recover it with: sqlite3 ${db} .recover`,
  };
}

/** The state folder must be ours and closed to others (the daemon refuses it otherwise). */
export function stateFolderCheck(env: Env, uid: number): Check {
  const dir = statePaths(env).dir;
  if (!existsSync(dir)) {
    return {
      name: "state folder",
      status: "ok",
      message: `${dir} does not exist yet (portctl start creates it)`,
    };
  }
  const problem = stateFolderProblem(dir, uid);
  if (problem) {
    return {
      name: "state folder",
      status: "fail",
      message: problem.message,
      fix: problem.fix ?? `set ${ENV.home} to a folder of your own`,
    };
  }
  const mode = (statSync(dir).mode & 0o777).toString(8);
  return { name: "state folder", status: "ok", message: `${dir} is yours, mode ${mode}` };
}

export function addressCheck(env: Env): Check {
  const value = env[ENV.addr];
  try {
    const addr = parseAddress(value);
    const shown = value ? `${ENV.addr}=${value}` : `default 127.0.0.1:${DEFAULT_PORT}`;
    const where = addr.socket ? `Unix socket ${addr.socket}` : `port ${addr.port}`;
    return { name: "address", status: "ok", message: `${shown} (${where})` };
  } catch (error) {
    return {
      name: "address",
      status: "fail",
      message: (error as Error).message,
      fix: `unset ${ENV.addr}, or set it to 127.0.0.1:<port> or unix:/path/to/port-server.sock`,
    };
  }
}

/** The client's range settings parse, leave ports to hand out, and match the daemon's. */
export function rangeCheck(env: Env, health: Health | undefined): Check {
  const fail = (message: string, fix: string): Check => ({
    name: "range",
    status: "fail",
    message,
    fix,
  });
  let range: ReturnType<typeof parseRange>;
  let exclude: ReturnType<typeof parseExclusions>;
  try {
    range = env[ENV.range] ? parseRange(env[ENV.range] ?? "") : DEFAULT_RANGE;
    exclude = parseExclusions(env[ENV.exclude]);
  } catch (error) {
    return fail((error as Error).message, `fix or unset ${ENV.range} / ${ENV.exclude}`);
  }
  let free = range.hi - range.lo + 1;
  for (const e of exclude)
    free -= Math.max(0, Math.min(e.hi, range.hi) - Math.max(e.lo, range.lo) + 1);
  if (free <= 0)
    return fail(`${ENV.exclude} leaves no port of ${formatRange(range)}`, `narrow ${ENV.exclude}`);
  const shown = `${formatRange(range)}${exclude.length ? ` minus ${exclude.map(formatRange).join(",")}` : ""}`;
  if (
    health &&
    typeof health.range === "string" &&
    env[ENV.range] &&
    health.range !== formatRange(range)
  ) {
    return {
      name: "range",
      status: "warn",
      message: `the daemon hands out ${health.range}, but ${ENV.range} says ${formatRange(range)}`,
      fix: "portctl restart",
    };
  }
  return {
    name: "range",
    status: "ok",
    message: `auto-assign range ${shown} (about ${free} ports)`,
  };
}

/** Allocations of checkouts that no longer exist (deleted worktrees): `prune` frees them. */
export function staleCheck(
  stale: { app: string; instance: string; service: string }[] | undefined,
): Check | undefined {
  if (stale === undefined) return undefined;
  if (stale.length === 0) {
    return { name: "stale", status: "ok", message: "no allocation belongs to a vanished checkout" };
  }
  const names = stale.slice(0, 3).map((a) => `${a.app}/${a.instance}/${a.service}`);
  const more = stale.length > 3 ? ` and ${stale.length - 3} more` : "";
  return {
    name: "stale",
    status: "warn",
    message: `${stale.length} allocation${stale.length === 1 ? "" : "s"} of checkouts that no longer exist: ${names.join(", ")}${more}`,
    fix: "portctl prune --yes",
  };
}

/** Installed copies of the skill must be the embedded one; none installed is only a warning. */
export function skillCheck(cwd: string, home: string): Check {
  const top = findCheckout(cwd)?.top ?? resolve(cwd);
  const locals = PROJECT_TARGETS.map((t) => skillDir(join(top, t.folder)));
  const globals = GLOBAL_TARGETS.map((t) => skillDir(join(home, t.folder)));
  const installed = [...new Set([...locals, ...globals])].filter((dir) =>
    existsSync(join(dir, "SKILL.md")),
  );
  if (installed.length === 0) {
    return {
      name: "skill",
      status: "warn",
      message: "the port-manager skill is not installed here or in your home folder",
      fix: "portctl skill install (this project) or portctl skill install --global",
    };
  }
  const outdated = installed.filter((dir) => !sameAsEmbedded(dir));
  if (outdated.length > 0) {
    const fixes = [
      ...(outdated.some((dir) => locals.includes(dir)) ? ["portctl skill install"] : []),
      ...(outdated.some((dir) => globals.includes(dir)) ? ["portctl skill install --global"] : []),
    ];
    return {
      name: "skill",
      status: "fail",
      message: `the skill in ${outdated.join(", ")} differs from this portctl's`,
      fix: fixes.join(" && "),
    };
  }
  return { name: "skill", status: "ok", message: `up to date in ${installed.join(", ")}` };
}

// --- internal ---

function sameAsEmbedded(dir: string): boolean {
  return SKILL_FILES.every((f) => {
    try {
      return readFileSync(join(dir, f.path), "utf8") === f.content;
    } catch {
      return false;
    }
  });
}
