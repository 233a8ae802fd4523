// Setting one table, `[mcp_servers.<name>]`, in Codex's config.toml by editing the text: every
// other line (comments, other servers, the user's formatting) stays byte for byte. A TOML
// library's parse → stringify would drop the comments, so the library only checks: the file
// must parse before, and after the edit it must hold exactly our table with everything else
// equal to what was there. Anything else is refused and nothing is written.
import { parse, type TomlTable } from "smol-toml";
import { PortError } from "../../core/errors.ts";
import type { MergeOutcome, ServerEntry } from "./config-json.ts";

/** The `[mcp_servers.<name>]` table for `entry`, as lines (env as an inline table). */
export function tomlTable(name: string, entry: ServerEntry): string[] {
  const lines = [
    `[mcp_servers.${bareKey(name)}]`,
    `command = ${tomlString(entry.command)}`,
    `args = [${entry.args.map(tomlString).join(", ")}]`,
  ];
  const env = Object.entries(entry.env ?? {});
  if (env.length > 0) {
    lines.push(`env = { ${env.map(([k, v]) => `${bareKey(k)} = ${tomlString(v)}`).join(", ")} }`);
  }
  return lines;
}

export function mergeTomlServer(
  text: string,
  file: string,
  name: string,
  entry: ServerEntry,
): { text: string; outcome: MergeOutcome } {
  const before = parseToml(text, file);
  const existing = serversOf(before)?.[name];
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const blocks = tableBlocks(lines, name);
  if (existing !== undefined && blocks.length === 0) {
    throw new PortError(
      "bad_request",
      `cannot update ${file}: it sets mcp_servers.${name} without a [mcp_servers.${name}] table; remove that and run again`,
    );
  }
  if (existing !== undefined && sameEntry(existing, entry)) return { text, outcome: "unchanged" };
  const out = replaceBlocks(lines, blocks, tomlTable(name, entry));
  const result = `${out.join(eol)}${eol}`;
  verify(before, result, name, entry, file);
  return { text: result, outcome: existing === undefined ? "added" : "updated" };
}

// --- internal ---

/** A table header line: `[a.b]` or `[[a.b]]`, with an optional comment. */
const HEADER = /^\s*\[/;

function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text);
  } catch (err) {
    const first = (err as Error).message.split("\n")[0];
    throw new PortError(
      "bad_request",
      `cannot update ${file}: it is not valid TOML (${first}); fix it and run again`,
    );
  }
}

function serversOf(config: TomlTable): TomlTable | undefined {
  const s = config.mcp_servers;
  return typeof s === "object" && s !== null && !Array.isArray(s) ? (s as TomlTable) : undefined;
}

/**
 * Line ranges [start, end) of `[mcp_servers.<name>]` and its sub-tables (`….env`), in any of
 * TOML's spellings of the key. A block ends at the next header; the comments and blank lines
 * just before that header belong to what follows.
 */
function tableBlocks(lines: string[], name: string): [number, number][] {
  const key = `(?:${escapeRegExp(name)}|"${escapeRegExp(name)}"|'${escapeRegExp(name)}')`;
  const ours = new RegExp(
    `^\\s*\\[\\s*mcp_servers\\s*\\.\\s*${key}\\s*(?:\\.[^\\]]*)?\\]\\s*(?:#.*)?$`,
  );
  const blocks: [number, number][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!ours.test(lines[i] ?? "")) continue;
    let next = i + 1;
    while (next < lines.length && !HEADER.test(lines[next] ?? "")) next++;
    let end = next;
    while (end > i + 1 && /^\s*(?:#.*)?$/.test(lines[end - 1] ?? "")) end--;
    blocks.push([i, end]);
    i = next - 1;
  }
  return blocks;
}

/** Our table where the first old block was (the others removed), or appended after a blank line. */
function replaceBlocks(lines: string[], blocks: [number, number][], table: string[]): string[] {
  if (blocks.length === 0) {
    const trimmed = [...lines];
    while (trimmed.length > 0 && (trimmed.at(-1) ?? "").trim() === "") trimmed.pop();
    return trimmed.length > 0 ? [...trimmed, "", ...table] : table;
  }
  const out: string[] = [];
  let from = 0;
  blocks.forEach(([start, end], i) => {
    const gap = lines.slice(from, start);
    // The blank lines before a later block of ours would pile up where it was removed.
    while (i > 0 && gap.length > 0 && (gap.at(-1) ?? "").trim() === "") gap.pop();
    out.push(...gap);
    if (i === 0) out.push(...table);
    from = end;
  });
  out.push(...lines.slice(from));
  return out;
}

/** The edit must parse, hold our entry, and leave every other value as it was. */
function verify(before: TomlTable, text: string, name: string, entry: ServerEntry, file: string) {
  let after: TomlTable | undefined;
  try {
    after = parse(text);
  } catch {
    after = undefined;
  }
  const ok =
    after !== undefined &&
    sameEntry(serversOf(after)?.[name], entry) &&
    JSON.stringify(without(before, name)) === JSON.stringify(without(after, name));
  if (!ok) {
    throw new PortError(
      "bad_request",
      `cannot update ${file} safely (its layout is unusual); add this table by hand:\n${tomlTable(name, entry).join("\n")}`,
    );
  }
}

function sameEntry(value: unknown, entry: ServerEntry): boolean {
  const want = {
    command: entry.command,
    args: entry.args,
    ...(entry.env ? { env: entry.env } : {}),
  };
  return JSON.stringify(sortKeys(value)) === JSON.stringify(sortKeys(want));
}

/** The config without our server, keys sorted (a table's position in the file is not its value). */
function without(config: TomlTable, name: string): unknown {
  const servers = serversOf(config);
  if (!servers) return sortKeys(config);
  const { [name]: _, ...others } = servers;
  const { mcp_servers: __, ...rest } = config;
  // A table that held only our server is the same as no table.
  return sortKeys(Object.keys(others).length ? { ...rest, mcp_servers: others } : rest);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== "object" || v === null || v instanceof Date) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

function bareKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** A TOML basic string: JSON's escapes are TOML's; TOML also wants DEL escaped. */
function tomlString(s: string): string {
  return JSON.stringify(s).replaceAll("\u007f", "\\u007f");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
