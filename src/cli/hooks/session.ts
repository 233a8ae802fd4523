// `portctl session start` and the hook side of `session end` and `session heartbeat`: a session
// starting in a checkout gets the ports its project declares (held for the session in a linked
// worktree, with a heartbeat ttl; kept for good in the main checkout), handed to the agent as
// each host reads them; each prompt (and, in Claude Code, each tool use) is a heartbeat; a
// session ending or a worktree removed in a linked worktree frees that worktree's ports, in the
// main checkout never.
import { closeSync, existsSync, constants as fs, openSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { ENV } from "../../core/config.ts";
import { envKey } from "../../core/envkey.ts";
import { PortError } from "../../core/errors.ts";
import type { Allocation } from "../../core/model.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner, findCheckout } from "../detect.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";
import { allocateStackPort } from "../run/compose.ts";
import { declaredPorts } from "./declared.ts";
import { type HookHost, type HookInput, parseHookInput } from "./input.ts";

export interface SessionStartOptions {
  id?: string;
  hook?: HookHost;
  json?: boolean;
}

export async function sessionStart(opts: SessionStartOptions, io: Io): Promise<number> {
  if (!opts.hook) {
    if (!opts.id) throw new PortError("bad_request", "name the session: portctl session start ID");
    const { allocations, env } = await startIn(io.cwd, opts.id, io);
    if (opts.json) printJson(io, allocations);
    else for (const [k, v] of env) io.out(`${k}=${v}`);
    return 0;
  }
  return asHook(io, async (input) => {
    const cwd = input.cwd ?? io.cwd;
    const { env, held } = await startIn(cwd, input.session, io);
    // A session the host never ends (killed, the machine off) lets its ports go after the ttl.
    if (held) await new Client(io.env).heartbeat(input.session, sessionTtl(io));
    if (env.length === 0) return;
    if (opts.hook === "claude") writeClaudeEnv(io, env);
    const text = `port-server: this session's ports (from the registry; use these, never pick numbers): ${env.map(([k, v]) => `${k}=${v}`).join(" ")}`;
    const event = input.event ?? "SessionStart";
    io.out(
      JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } }),
    );
  });
}

/** `session end --hook`: SessionEnd or WorktreeRemove, as the host's input says. */
export async function sessionEndHook(io: Io): Promise<number> {
  return asHook(io, async (input) => {
    const client = new Client(io.env);
    if (input.event === "WorktreeRemove" && input.worktreePath) {
      const path = resolve(input.worktreePath);
      // A folder that is still there and is not a linked worktree is a main checkout: never.
      if (existsSync(path) && !findCheckout(path)?.worktree) return;
      const gone = await client.releaseWhere({ checkout: path });
      if (gone.deleted > 0)
        io.err(`port-server: released ${gone.deleted} port(s) of ${safe(path)}`);
      return;
    }
    const cwd = input.cwd ?? io.cwd;
    if (existsSync(cwd) && !findCheckout(cwd)?.worktree) {
      // Claude Code runs SessionEnd in the main checkout once it has left (and maybe removed)
      // the session's worktree: the session's ports elsewhere go, this checkout's never.
      const here = detectCheckoutPath(findCheckout(cwd)?.top ?? resolve(cwd));
      const session = (await client.sessions()).find((s) => s.id === input.session);
      const elsewhere = (session?.allocations ?? []).filter((a) => a.checkout !== here);
      for (const a of elsewhere) await client.release(a.id);
      if (elsewhere.length > 0)
        io.err(
          `port-server: released ${elsewhere.length} port(s) of session ${safe(input.session)}`,
        );
      return;
    }
    const { released } = await client.endSession(input.session);
    if (released.length > 0)
      io.err(`port-server: released ${released.length} port(s) of session ${safe(input.session)}`);
  });
}

/**
 * `session heartbeat --hook`: the host's prompt (or tool use) in a linked worktree keeps the
 * session's ports for another ttl. Prints nothing (a prompt hook's stdout would reach the model);
 * in the main checkout it asks nothing at all.
 */
export async function sessionHeartbeatHook(io: Io): Promise<number> {
  return asHook(io, async (input) => {
    const cwd = input.cwd ?? io.cwd;
    if (existsSync(cwd) && !findCheckout(cwd)?.worktree) return;
    await new Client(io.env).heartbeat(input.session, sessionTtl(io));
  });
}

/** How long the hooks' sessions may stay silent, unless PORT_SERVER_SESSION_TTL says otherwise. */
export const HOOK_SESSION_TTL = "4h";

// --- internal ---

interface Started {
  allocations: Allocation[];
  /** Variable → port, in the order allocated. */
  env: [string, number][];
  /** The ports are the session's (a linked worktree), not the project's. */
  held: boolean;
}

/** PORT_SERVER_SESSION_TTL when it is a duration the API takes (30s, 10m, 4h, 2d), else 4h. */
function sessionTtl(io: Io): string {
  const value = io.env[ENV.sessionTtl];
  if (value === undefined || value === "") return HOOK_SESSION_TTL;
  if (/^[1-9]\d{0,5}[smhdw]$/.test(value)) return value;
  io.err(
    `port-server: ${ENV.sessionTtl}=${safe(value)} is not a duration such as 30m or 4h; using ${HOOK_SESSION_TTL}`,
  );
  return HOOK_SESSION_TTL;
}

async function startIn(cwd: string, session: string, io: Io): Promise<Started> {
  const checkout = findCheckout(cwd);
  const top = checkout?.top ?? resolve(cwd);
  const { ports, notes } = declaredPorts(top, io.env);
  for (const note of notes) io.err(`port-server: ${safe(note)}`);
  const who = {
    ...detectOwner(top, {}),
    checkout: detectCheckoutPath(top),
    // In a linked worktree the ports are the session's; in the main checkout, the project's.
    ...(checkout?.worktree ? { lease_session: session } : {}),
  };
  const client = new Client(io.env);
  const allocations: Allocation[] = [];
  const env: [string, number][] = [];
  for (const port of ports) {
    const rows = await allocateStackPort(client, who, port);
    const a = rows[0];
    const last = rows.at(-1);
    if (!a || !last) continue;
    allocations.push(...rows);
    for (const key of new Set([port.variable ?? envKey(a.service), envKey(a.service)])) {
      env.push([key, a.port]);
    }
    // A range's last port has a variable of its own (`${WEB_END:-3009}`).
    if (port.block?.endVariable) env.push([port.block.endVariable, last.port]);
  }
  return { allocations, env, held: allocations.length > 0 && Boolean(checkout?.worktree) };
}

/**
 * A hook never blocks or fails the agent's session: any failure (no daemon, bad input) is one
 * line on stderr and exit 0.
 */
async function asHook(io: Io, fn: (input: HookInput) => Promise<void>): Promise<number> {
  try {
    const text = io.readStdin ? await io.readStdin() : "";
    await fn(parseHookInput(text));
  } catch (err) {
    const line = err instanceof Error ? err.message : String(err);
    io.err(safe(line.startsWith("port-server") ? line : `port-server: ${line}`));
  }
  return 0;
}

/** `export KEY=N` lines appended to Claude Code's session environment file. */
function writeClaudeEnv(io: Io, env: [string, number][]): void {
  const file = io.env.CLAUDE_ENV_FILE;
  if (!file) return;
  // Keys are [A-Z0-9_] and values integers: nothing in them a shell would interpret.
  const text = env.map(([k, v]) => `export ${k}=${v}\n`).join("");
  const fd = openSync(file, fs.O_WRONLY | fs.O_APPEND | fs.O_CREAT | fs.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
