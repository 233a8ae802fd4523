// `portctl hooks install`: writes each agent host's hook configuration so a session starting in
// a checkout gets its ports (`portctl session start --hook HOST`), each prompt keeps a linked
// worktree's session alive (`portctl session heartbeat --hook HOST`), and a session ending frees
// a linked worktree's (`portctl session end --hook HOST`). Merged into the file that is there
// (our entries replaced, every other hook kept); a file that is not a JSON object is refused and
// left untouched.
//
// No WorktreeRemove hook: Claude Code (2.1.332, read and tried) runs it only for a worktree a
// WorktreeCreate hook made, and then instead of removing the worktree itself, so ours would stop
// Claude Code removing it where no other WorktreeRemove hook does. Its own worktrees are
// removed with git; the session's end and the daemon (a checkout that disappears) free their ports.
import { join } from "node:path";
import { PortError } from "../../core/errors.ts";
import type { Io } from "../io.ts";
import { formatLike, isObject, parseObject } from "../mcp/config-json.ts";
import { projectEntry, serverEntry } from "../mcp/install.ts";
import { colors, shellWords } from "../output.ts";
import { rewriteFile } from "../rewrite.ts";
import { CLAUDE_EVENTS, claudeEntry, type HookCommand, TIMEOUT_SECONDS } from "./events.ts";
import type { HookHost } from "./input.ts";

export interface HooksInstallOptions {
  claude?: boolean;
  codex?: boolean;
  gemini?: boolean;
  global?: boolean;
  print?: boolean;
}

interface Host {
  flag: HookHost;
  name: string;
  /** The settings file: in the project, or with --global in your home. */
  file(io: Io, global: boolean): string;
  /** Event → our command's subcommand. */
  events: Record<string, HookCommand>;
  /** One hook entry as the host writes it (timeouts: seconds, Gemini CLI milliseconds). */
  entry(command: string, sub: HookCommand): Record<string, unknown>;
}

const HOSTS: readonly Host[] = [
  {
    flag: "claude",
    name: "Claude Code",
    file: (io, global) => join(global ? io.home : io.cwd, ".claude", "settings.json"),
    events: CLAUDE_EVENTS,
    entry: claudeEntry,
  },
  {
    flag: "codex",
    name: "Codex",
    file: (io, global) =>
      global
        ? join(io.env.CODEX_HOME || join(io.home, ".codex"), "hooks.json")
        : join(io.cwd, ".codex", "hooks.json"),
    events: { SessionStart: "start", UserPromptSubmit: "heartbeat", SessionEnd: "end" },
    entry: (command) => ({ type: "command", command, timeout: TIMEOUT_SECONDS }),
  },
  {
    flag: "gemini",
    name: "Gemini CLI",
    file: (io, global) => join(global ? io.home : io.cwd, ".gemini", "settings.json"),
    events: { SessionStart: "start", BeforeAgent: "heartbeat", SessionEnd: "end" },
    entry: (command) => ({
      type: "command",
      name: "port-server",
      command,
      timeout: TIMEOUT_SECONDS * 1000,
    }),
  },
];

/** Exit 0 when every chosen host was written (or printed); 1 when one failed, the others still are. */
export async function hooksInstall(opts: HooksInstallOptions, io: Io): Promise<number> {
  const chosen = HOSTS.filter((h) => opts[h.flag]);
  if (chosen.length === 0) {
    throw new PortError(
      "bad_request",
      "choose a host: --claude, --codex or --gemini (or --print with one of them)",
    );
  }
  const global = opts.global ?? false;
  // A project's file is committed: it names portctl by command when that is this portctl.
  const portable = !global && projectEntry(io) !== undefined;
  const portctl = portable ? ["portctl"] : selfCommand(io);
  const c = colors(io);
  let failed = false;
  for (const host of chosen) {
    const file = host.file(io, global);
    if (opts.print) {
      io.out(`# ${host.name}: ${file}`);
      io.out(JSON.stringify({ hooks: hooksOf(host, portctl) }, null, 2));
      continue;
    }
    try {
      let changed = false;
      rewriteFile(
        file,
        (before) => {
          const after = merge(before, file, host, portctl);
          changed = after !== before;
          return changed ? after : undefined;
        },
        { createFolder: true },
      );
      const what = changed ? c.green("wrote") : c.dim("already up to date:");
      io.out(`${host.name}: ${what} ${Object.keys(host.events).join(", ")} hooks in ${file}`);
    } catch (err) {
      failed = true;
      io.err(`${host.name}: ${c.red("failed")}: ${(err as Error).message}`);
    }
  }
  if (!opts.print && !global && !portable) {
    io.out(
      `note: the hooks name ${portctl.join(" ")}: the portctl on PATH is not this one, so a teammate's machine may lack that path`,
    );
  }
  return failed ? 1 : 0;
}

// --- internal ---

/** How to run this very portctl (compiled: the binary; from source: bun and main.ts). */
function selfCommand(io: Io): string[] {
  const entry = serverEntry(io);
  return [entry.command, ...entry.args.slice(0, -1)];
}

function commandLine(portctl: string[], sub: HookCommand, host: HookHost): string {
  return `${shellWords(portctl)} session ${sub} --hook ${host}`;
}

function hooksOf(host: Host, portctl: string[]): Record<string, unknown[]> {
  return Object.fromEntries(
    Object.entries(host.events).map(([event, sub]) => [
      event,
      [{ hooks: [host.entry(commandLine(portctl, sub, host.flag), sub)] }],
    ]),
  );
}

/** Our group of each event replaced (or added); every other group and key kept. */
function merge(before: string, file: string, host: Host, portctl: string[]): string {
  const config = parseObject(before, file);
  const hooks = config.hooks ?? {};
  if (!isObject(hooks)) {
    throw new PortError("bad_request", `cannot update ${file}: "hooks" is not an object`);
  }
  const ours = hooksOf(host, portctl);
  // Our entries of events we no longer write (an earlier WorktreeRemove) go too.
  for (const [event, existing] of Object.entries(hooks)) {
    if (event in ours || !Array.isArray(existing) || !existing.some(isOurs)) continue;
    const others = existing.filter((g) => !isOurs(g));
    if (others.length > 0) hooks[event] = others;
    else delete hooks[event];
  }
  for (const [event, groups] of Object.entries(ours)) {
    const existing = hooks[event] ?? [];
    if (!Array.isArray(existing)) {
      throw new PortError("bad_request", `cannot update ${file}: "hooks.${event}" is not an array`);
    }
    const others = existing.filter((g) => !isOurs(g));
    hooks[event] = [...others, ...groups];
  }
  config.hooks = hooks;
  const after = formatLike(before, config);
  // Nothing changed but the formatting: leave the file as it is.
  return before.trim() !== "" && JSON.stringify(JSON.parse(before)) === JSON.stringify(config)
    ? before
    : after;
}

/** A matcher group whose hooks run `… session start|heartbeat|end --hook …`: one we wrote. */
function isOurs(group: unknown): boolean {
  if (!isObject(group) || !Array.isArray(group.hooks)) return false;
  return group.hooks.some(
    (h) =>
      isObject(h) &&
      typeof h.command === "string" &&
      / session (start|heartbeat|end) --hook /.test(h.command),
  );
}
