// `portctl mcp install`: adds `portctl mcp` to an agent host's MCP configuration (Claude Code's
// .mcp.json, Codex's config.toml, Cursor's .cursor/mcp.json, Gemini CLI's .gemini/settings.json,
// VS Code's .vscode/mcp.json), merging into the file that is there, or prints each configuration.
// A file is replaced by rename, never half-written.

import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  ENV,
  MCP_SERVER_NAME as SERVER_NAME,
} from "../../core/config.ts";
import { PortError } from "../../core/errors.ts";
import { isCompiled } from "../../core/version.ts";
import { findCheckout } from "../detect.ts";
import type { Io } from "../io.ts";
import { colors, safe, shellWords } from "../output.ts";
import { rewriteFile } from "../rewrite.ts";
import { type MergeOutcome, mergeJsonServer, type ServerEntry } from "./config-json.ts";
import { mergeTomlServer, tomlTable } from "./config-toml.ts";

export interface McpInstallOptions {
  claude?: boolean;
  codex?: boolean;
  cursor?: boolean;
  gemini?: boolean;
  vscode?: boolean;
  print?: boolean;
}

interface Host {
  flag: "claude" | "codex" | "cursor" | "gemini" | "vscode";
  name: string;
  /** A file in the project (committed, read on other machines) rather than in your home. */
  project: boolean;
  /** The file this host reads its MCP servers from (`top`: the project's top folder). */
  file(io: Io, top: string): string;
  merge(text: string, file: string, entry: ServerEntry): { text: string; outcome: MergeOutcome };
  /** What --print shows. */
  snippet(entry: ServerEntry): string[];
}

const HOSTS: readonly Host[] = [
  {
    flag: "claude",
    name: "Claude Code",
    project: true,
    file: (_io, top) => join(top, ".mcp.json"),
    merge: (text, file, entry) => mergeJsonServer(text, file, SERVER_NAME, claudeEntry(entry)),
    snippet: (entry) => [
      `# Claude Code: .mcp.json in the project, or for every project:`,
      `#   claude mcp add --scope user ${SERVER_NAME} ${envFlags(entry)}-- ${shellWords([entry.command, ...entry.args])}`,
      jsonSnippet(claudeEntry(entry)),
    ],
  },
  {
    flag: "codex",
    name: "Codex",
    project: false,
    file: (io) => join(io.env.CODEX_HOME || join(io.home, ".codex"), "config.toml"),
    merge: (text, file, entry) => mergeTomlServer(text, file, SERVER_NAME, entry),
    snippet: (entry) => [`# Codex: ~/.codex/config.toml`, ...tomlTable(SERVER_NAME, entry)],
  },
  {
    flag: "cursor",
    name: "Cursor",
    project: true,
    file: (_io, top) => join(top, ".cursor", "mcp.json"),
    merge: (text, file, entry) => mergeJsonServer(text, file, SERVER_NAME, { ...entry }),
    snippet: (entry) => [
      `# Cursor: .cursor/mcp.json in the project (or ~/.cursor/mcp.json for every project)`,
      jsonSnippet({ ...entry }),
    ],
  },
  {
    flag: "gemini",
    name: "Gemini CLI",
    project: true,
    file: (_io, top) => join(top, ".gemini", "settings.json"),
    merge: (text, file, entry) => mergeJsonServer(text, file, SERVER_NAME, { ...entry }),
    snippet: (entry) => [
      `# Gemini CLI: .gemini/settings.json in the project (or ~/.gemini/settings.json)`,
      jsonSnippet({ ...entry }),
    ],
  },
  {
    flag: "vscode",
    name: "VS Code",
    project: true,
    file: (_io, top) => join(top, ".vscode", "mcp.json"),
    // VS Code names the servers' object `servers` and wants the transport spelled out.
    merge: (text, file, entry) =>
      mergeJsonServer(text, file, SERVER_NAME, { type: "stdio", ...entry }, "servers"),
    snippet: (entry) => [
      `# VS Code: .vscode/mcp.json in the project`,
      JSON.stringify({ servers: { [SERVER_NAME]: { type: "stdio", ...entry } } }, null, 2),
    ],
  },
];

const CHOOSE = "--claude, --codex, --cursor, --gemini or --vscode";

/** Exit 0 when every chosen host was written (or printed); 1 when one failed, the others still are. */
export async function mcpInstall(opts: McpInstallOptions, io: Io): Promise<number> {
  const chosen = HOSTS.filter((h) => opts[h.flag]);
  const absolute = serverEntry(io);
  const portable = projectEntry(io);
  const entryFor = (host: Host) => (host.project && portable ? portable : absolute);
  if (opts.print) {
    const blocks = (chosen.length ? chosen : HOSTS).map((h) => h.snippet(entryFor(h)).join("\n"));
    io.out(blocks.join("\n\n"));
    return 0;
  }
  if (chosen.length === 0) {
    throw new PortError(
      "bad_request",
      `choose a host: ${CHOOSE} (or --print to see each configuration)`,
    );
  }
  const c = colors(io);
  const top = projectTop(io, chosen);
  let failed = false;
  for (const host of chosen) {
    const file = host.file(io, top);
    const entry = entryFor(host);
    try {
      let outcome: MergeOutcome = "unchanged";
      rewriteFile(
        file,
        (before) => {
          const merged = host.merge(before, file, entry);
          outcome = merged.outcome;
          return merged.outcome === "unchanged" ? undefined : merged.text;
        },
        { createFolder: true },
      );
      io.out(`${host.name}: ${describe(outcome, c)} ${file}`);
      if (host.project && !portable) {
        io.out(
          `  note: it names ${entry.command}: the portctl on PATH is not this one, so a teammate's machine may lack that path`,
        );
      }
      const addr = entry.env?.[ENV.addr];
      if (host.project && addr) {
        io.out(
          safe(
            `  note: it carries ${ENV.addr}=${addr} from your environment, so the agent reaches the daemon you do; a teammate's may listen elsewhere (drop the "env" entry before committing, if so)`,
          ),
        );
      }
    } catch (err) {
      failed = true;
      const line = (err as Error).message;
      io.err(`${host.name}: ${c.red("failed")}: ${line}`);
    }
  }
  return failed ? 1 : 0;
}

/**
 * Where the project hosts' files go: the top folder of the repository around the current folder
 * (where an agent started in the project reads them, as skill install and scan choose), else the
 * current folder. Said once when it is not the current folder.
 */
function projectTop(io: Io, chosen: Host[]): string {
  const top = findCheckout(io.cwd)?.top;
  if (!top || top === resolve(io.cwd)) return io.cwd;
  if (chosen.some((h) => h.project))
    io.err(safe(`installing in ${top} (the repository's top folder)`));
  return top;
}

/**
 * How a host starts this server: this very executable (an absolute path, since hosts started
 * from a desktop do not have the shell's PATH), and the registry address if it is not the
 * default one, so the agent reaches the daemon you do.
 */
export function serverEntry(io: Io): ServerEntry {
  // Compiled, the executable is portctl itself; from source it is bun running src/main.ts.
  const command = process.execPath;
  const args = isCompiled() ? ["mcp"] : [join(import.meta.dir, "../../main.ts"), "mcp"];
  const addr = io.env[ENV.addr]?.trim();
  const custom = addr && addr !== `${DEFAULT_HOST}:${DEFAULT_PORT}`;
  return { command, args, ...(custom ? { env: { [ENV.addr]: addr } } : {}) };
}

/**
 * The entry a project file gets: `portctl` by name when the portctl on PATH is this executable
 * (then the file works on any machine where portctl is installed); undefined when it is not.
 */
export function projectEntry(
  io: Io,
  // From source the executable is bun, never the portctl on PATH.
  self: string | undefined = isCompiled() ? process.execPath : undefined,
): ServerEntry | undefined {
  if (!self) return undefined;
  const found = Bun.which("portctl", { PATH: io.env.PATH ?? "" });
  if (!found || !sameFile(found, self)) return undefined;
  const entry = serverEntry(io);
  return { ...entry, command: "portctl", args: ["mcp"] };
}

// --- internal ---

/** One file under two names (a hard link, a symlink), or two copies of one file. */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    if (x.dev === y.dev && x.ino === y.ino) return true;
    // `make install` and the npm package copy the binary: equal bytes are the same portctl.
    return x.size === y.size && Bun.hash(readFileSync(a)) === Bun.hash(readFileSync(b));
  } catch {
    return false;
  }
}

function describe(outcome: MergeOutcome, c: ReturnType<typeof colors>): string {
  if (outcome === "added") return `${c.green("added")} ${SERVER_NAME} to`;
  if (outcome === "updated") return `${c.green("updated")} ${SERVER_NAME} in`;
  return `${SERVER_NAME} ${c.dim("already up to date")} in`;
}

/** Claude Code writes `type: "stdio"` itself (`claude mcp add`); so do we. */
function claudeEntry(entry: ServerEntry): Record<string, unknown> {
  return { type: "stdio", ...entry };
}

function jsonSnippet(entry: Record<string, unknown>): string {
  return JSON.stringify({ mcpServers: { [SERVER_NAME]: entry } }, null, 2);
}

function envFlags(entry: ServerEntry): string {
  return Object.entries(entry.env ?? {})
    .map(([k, v]) => `--env ${shellWords([`${k}=${v}`])} `)
    .join("");
}
