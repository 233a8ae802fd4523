// Allocations as environment variables (`POSTGRES_PORT=3000`), and merging them into an
// existing .env file without disturbing any line that is not ours.
import { PortError } from "../core/errors.ts";
import type { Allocation } from "../core/model.ts";

export const ENV_FORMATS = ["dotenv", "export", "json"] as const;

export type EnvEntry = [key: string, port: number];

/**
 * `postgres` → `POSTGRES_PORT`, `web-api` → `WEB_API_PORT`, `3d` → `_3D_PORT`, `café` →
 * `CAFE_PORT` (accents and ligatures transliterated: NFKD, then marks dropped, then the few
 * Latin letters that do not decompose, such as ø and ß); anything else becomes `_`.
 */
export function envKey(service: string): string {
  const key = `${transliterate(service).replace(/[^A-Z0-9]/g, "_")}_PORT`;
  return /^[0-9]/.test(key) ? `_${key}` : key;
}

/**
 * Why `service` cannot become an environment variable, or undefined when it can. Checked when a
 * port is allocated (client.ts), so that `portctl env` can never fail on it later: `数据库`
 * would be `____PORT`, and a second CJK name the same key.
 */
export function envKeyProblem(service: string): string | undefined {
  if (/[A-Z0-9]/.test(transliterate(service))) return undefined;
  return `service name '${service}' cannot be an environment variable: it has no Latin letter or digit (portctl env would print ${envKey(service)}); choose a name that has one`;
}

/**
 * One `KEY=port` per allocation. Two services whose names map to one key (`web-api`, `web_api`)
 * would lose a port silently, so that is an error naming both.
 */
export function envEntries(rows: Allocation[]): EnvEntry[] {
  const owners = new Map<string, string>();
  return rows.map((a) => {
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

/** Upper-case ASCII where a Latin letter has an obvious spelling; other characters unchanged. */
function transliterate(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[ÆæØøÐðÞþĐđĦħıĸŁłŒœŊŋŦŧ]/g, (ch) => LETTERS[ch] ?? ch)
    .toUpperCase();
}

const LETTERS: Record<string, string> = {
  Æ: "AE",
  æ: "ae",
  Ø: "O",
  ø: "o",
  Ð: "D",
  ð: "d",
  Þ: "TH",
  þ: "th",
  Đ: "D",
  đ: "d",
  Ħ: "H",
  ħ: "h",
  ı: "i",
  ĸ: "k",
  Ł: "L",
  ł: "l",
  Œ: "OE",
  œ: "oe",
  Ŋ: "NG",
  ŋ: "ng",
  Ŧ: "T",
  ŧ: "t",
};

/** A value (quoted or bare) followed by a comment; group 1 is the comment with its spacing. */
const INLINE_COMMENT = /^(?:"[^"]*"|'[^']*'|[^\s#"']*)(\s*#.*)$/;
