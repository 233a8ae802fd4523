// Allocations as environment variables (`POSTGRES_PORT=3000`), and merging them into an
// existing .env file without disturbing any line that is not ours.

import { envKey, urlKey } from "../core/envkey.ts";
import { PortError } from "../core/errors.ts";
import type { Allocation } from "../core/model.ts";

export { envKey, urlKey } from "../core/envkey.ts";
export { ENV_FORMATS } from "./flags.ts";

/** A variable and its value: a port, a URL (names.ts) or (COMPOSE_PROJECT_NAME) a Compose project name. */
export type EnvEntry = [key: string, value: number | string];

/**
 * One `KEY=port` per allocation, then `KEY_URL=http://…` for each that serves HTTP (its name
 * through the proxy). Two services whose names map to one key (`web-api`, `web_api`) would lose
 * a port silently, so that is an error naming both.
 */
export function envEntries(rows: Allocation[]): EnvEntry[] {
  return [...portEntries(rows), ...urlEntries(rows)];
}

/** `API_URL=http://api.shop.localhost:2080` for each allocation with a URL. */
export function urlEntries(rows: Allocation[]): EnvEntry[] {
  const out: EnvEntry[] = [];
  for (const a of rows) if (a.url) out.push([urlKey(a.service), a.url]);
  return out;
}

export function renderDotenv(entries: EnvEntry[]): string[] {
  return entries.map(([k, v]) => `${k}=${v}`);
}

export function renderExport(entries: EnvEntry[]): string[] {
  return entries.map(([k, v]) => `export ${k}=${v}`);
}

/**
 * Sets each key in `text` (a .env file): an existing `KEY=` or `export KEY=` line gets the new
 * value, keeping its `export` and inline comment; missing keys are appended. Every other line,
 * comment and blank line stays exactly as it was.
 */
export function mergeDotenv(text: string, entries: EnvEntry[]): string {
  const lines = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const wanted = new Map(entries);
  const pending = new Map(entries);
  const merged = lines.map((line) => {
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=[ \t]*)/.exec(line);
    const key = m?.[2];
    if (!m || key === undefined || !wanted.has(key)) return line;
    pending.delete(key);
    // An inline `# comment` after the old value is the user's: keep it.
    const comment = INLINE_COMMENT.exec(line.slice(m[0].length))?.[1]?.replace(/^#/, " #") ?? "";
    return `${m[1]}${key}${m[3]}${wanted.get(key)}${comment}`;
  });
  for (const [k, v] of pending) merged.push(`${k}=${v}`);
  return merged.length ? `${merged.join(eol)}${eol}` : "";
}

// --- internal ---

function portEntries(rows: Allocation[]): EnvEntry[] {
  const owners = new Map<string, string>();
  return rows.map((a): EnvEntry => {
    const key = envKey(a.service);
    const first = owners.get(key);
    if (first !== undefined) {
      throw new PortError(
        "bad_request",
        `services ${first} and ${a.service} both map to ${key}; rename one`,
      );
    }
    owners.set(key, a.service);
    return [key, a.port];
  });
}

/** A value (quoted or bare) followed by a comment; group 1 is the comment with its spacing. */
const INLINE_COMMENT = /^(?:"[^"]*"|'[^']*'|[^\s#"']*)(\s*#.*)$/;
