// The command table flattened for completion scripts: one entry per command path (`""` for
// portctl itself, `skill install` for a subcommand) with what may follow it. Every shell's
// script is generated from this, so a new row in commands/index.ts completes everywhere.
import type { CommandSpec, Flag } from "../spec.ts";

export interface FlagWord {
  /** `--service`, or `-q` for a short alias. */
  word: string;
  help: string;
  /** Takes a value (the next word). */
  valued: boolean;
  choices?: readonly string[];
  /** Values come from the daemon: this app's service names. */
  services?: boolean;
}

export interface PathEntry {
  path: string;
  /** Subcommands with their summaries (a group such as `skill`). */
  subcommands: { name: string; summary: string }[];
  flags: FlagWord[];
  /** Takes positional arguments (files or folders, e.g. `scan [DIR]`). */
  positional: boolean;
}

const HELP_FLAG: FlagWord = { word: "--help", help: "show help", valued: false };

export function completionModel(table: readonly CommandSpec[]): PathEntry[] {
  const entries: PathEntry[] = [
    {
      path: "",
      subcommands: table.map((c) => ({ name: c.name, summary: c.summary })),
      flags: [HELP_FLAG, { word: "--version", help: "print version", valued: false }],
      positional: false,
    },
  ];
  const visit = (commands: readonly CommandSpec[], prefix: string) => {
    for (const c of commands) {
      const path = prefix ? `${prefix} ${c.name}` : c.name;
      entries.push({
        path,
        subcommands: (c.subcommands ?? []).map((s) => ({ name: s.name, summary: s.summary })),
        flags: [
          ...Object.entries(c.flags ?? {}).flatMap(([name, f]) => flagWords(name, f)),
          HELP_FLAG,
        ],
        positional: (c.args?.length ?? 0) > 0,
      });
      if (c.subcommands) visit(c.subcommands, path);
    }
  };
  visit(table, "");
  return entries;
}

/** Characters a word of the table may use, so it can stand unquoted in any shell's script. */
export function assertPlainWords(entries: readonly PathEntry[]): void {
  for (const e of entries) {
    const words = [e.path, ...e.subcommands.map((s) => s.name), ...e.flags.map((f) => f.word)];
    const choices = e.flags.flatMap((f) => f.choices ?? []);
    for (const w of [...words, ...choices]) {
      if (!/^[\w -]*$/.test(w)) throw new Error(`completion: '${w}' cannot be completed`);
    }
  }
}

// --- internal ---

function flagWords(name: string, f: Flag): FlagWord[] {
  const base = {
    help: f.help,
    valued: f.value !== undefined,
    ...(f.choices ? { choices: f.choices } : {}),
    ...(name === "service" ? { services: true } : {}),
  };
  return [{ word: `--${name}`, ...base }, ...(f.short ? [{ word: `-${f.short}`, ...base }] : [])];
}
