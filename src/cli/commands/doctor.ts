// `portctl doctor`: one line per check (✓ ok, ! warning, ✗ failure with the command that fixes
// it); exit 1 if anything failed. The daemon's version is compared whenever /healthz answers.
import { statePaths } from "../../core/config.ts";
import { VERSION } from "../../core/version.ts";
import { Client, type Health } from "../client.ts";
import {
  addressCheck,
  type Check,
  daemonCheck,
  integrityCheck,
  rangeCheck,
  skillCheck,
  staleCheck,
  stateFolderCheck,
  versionCheck,
} from "../doctor/checks.ts";
import { proxyCheck } from "../doctor/proxy.ts";
import { anotherUsers, disprove, type OtherUser } from "../identity.ts";
import type { Io } from "../io.ts";
import { colors, printJson, safe } from "../output.ts";
import { addressTaken } from "../taken.ts";

export async function doctor(opts: { json?: boolean }, io: Io): Promise<number> {
  const checks = await runChecks(io);
  const ok = checks.every((c) => c.status !== "fail");
  if (opts.json) {
    printJson(io, { ok, checks });
    return ok ? 0 : 1;
  }
  const c = colors(io);
  const mark = { ok: c.green("✓"), warn: c.yellow("!"), fail: c.red("✗") };
  for (const check of checks) {
    const fix = check.fix ? ` — fix: ${safe(check.fix)}` : "";
    io.out(`${mark[check.status]} ${check.name}: ${safe(check.message)}${fix}`);
  }
  return ok ? 0 : 1;
}

// --- internal ---

/** Every check, in the order a person would fix them. */
async function runChecks(io: Io): Promise<Check[]> {
  const address = addressCheck(io.env);
  let health: Health | undefined;
  let foreign: string | undefined;
  let base = "";
  let other: OtherUser | undefined;
  const client = address.status === "ok" ? new Client(io.env) : undefined;
  if (client) {
    base = client.where;
    health = await client.health().catch(() => undefined);
    // Whatever answers is asked nothing more (its database, its stale rows) unless it is ours,
    // or another user's port-server: the machine's one registry, where our allocations go.
    const ours = { db: statePaths(io.env).db, address: client.base };
    foreign = health ? disprove(health.pid, health, ours) : undefined;
    other = foreign ? anotherUsers(health) : undefined;
    if (other) foreign = undefined;
  }
  const daemon = foreign ? undefined : health;
  const taken = client && !daemon ? addressTaken(io.env) : undefined;
  const [integrity, stale] =
    daemon && client ? await Promise.all([integrityOf(client), staleOf(client)]) : [];
  const db = typeof daemon?.db === "string" ? daemon.db : "the database";
  const checks: (Check | undefined)[] = [
    address,
    address.status === "ok" ? daemonCheck(health, base, foreign, taken, other) : undefined,
    versionCheck(health, VERSION),
    integrityCheck(integrity, db),
    stateFolderCheck(io.env, process.getuid?.() ?? 0),
    rangeCheck(io.env, daemon),
    proxyCheck(daemon),
    staleCheck(stale),
    skillCheck(io.cwd, io.home),
  ];
  return checks.filter((c): c is Check => c !== undefined);
}

/** The daemon runs PRAGMA quick_check on its own database; the CLI never opens the file. */
async function integrityOf(client: Client): Promise<string> {
  try {
    const { integrity } = await client.integrity();
    return integrity ?? "the daemon did not report it (an older daemon: portctl restart)";
  } catch (error) {
    return `the daemon could not check it: ${(error as Error).message}`;
  }
}

/** What `prune` would release (a dry run changes nothing); undefined if the daemon cannot say. */
async function staleOf(client: Client) {
  try {
    const { candidates } = await client.prune({ dry_run: true });
    return candidates.map((c) => c.allocation);
  } catch {
    return undefined;
  }
}
