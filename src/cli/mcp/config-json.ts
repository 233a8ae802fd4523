// Merging one server into a host's JSON configuration (`.mcp.json`, `.cursor/mcp.json`,
// `.gemini/settings.json`, `.vscode/mcp.json`):
// every other key and server is kept as it was, the file's indentation too. A file that is not
// a JSON object is refused, never overwritten.
import { PortError } from "../../core/errors.ts";

export interface ServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export type MergeOutcome = "added" | "updated" | "unchanged";

/**
 * `text` (the file's content, "" when it does not exist) with `<key>[name]` set to `entry`
 * (`key`: `mcpServers`, VS Code's `servers`).
 */
export function mergeJsonServer(
  text: string,
  file: string,
  name: string,
  entry: Record<string, unknown>,
  key = "mcpServers",
): { text: string; outcome: MergeOutcome } {
  const config = parseObject(text, file);
  const servers = config[key] ?? {};
  if (!isObject(servers)) {
    throw new PortError("bad_request", `cannot update ${file}: "${key}" is not an object`);
  }
  const before = servers[name];
  if (before !== undefined && JSON.stringify(before) === JSON.stringify(entry)) {
    return { text, outcome: "unchanged" };
  }
  servers[name] = entry;
  config[key] = servers;
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const out = JSON.stringify(config, null, indentOf(text)).replaceAll("\n", eol);
  return { text: `${out}${eol}`, outcome: before === undefined ? "added" : "updated" };
}

/** `config` written back in `before`'s indentation and line ends. */
export function formatLike(before: string, config: Record<string, unknown>): string {
  const eol = before.includes("\r\n") ? "\r\n" : "\n";
  return `${JSON.stringify(config, null, indentOf(before)).replaceAll("\n", eol)}${eol}`;
}

/** The file's JSON object ({} when empty); anything else is refused with one line. */
export function parseObject(text: string, file: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PortError(
      "bad_request",
      `cannot update ${file}: it is not valid JSON (${(err as Error).message}); fix it and run again`,
    );
  }
  if (!isObject(value)) {
    throw new PortError("bad_request", `cannot update ${file}: it is not a JSON object`);
  }
  return value;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// --- internal ---

/** The indentation of the first indented line (a tab, or N spaces); 2 spaces by default. */
function indentOf(text: string): string | number {
  const m = /^([ \t]+)\S/m.exec(text);
  if (!m?.[1]) return 2;
  return m[1].startsWith("\t") ? "\t" : m[1].length;
}
