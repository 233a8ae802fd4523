// Everything the CLI prints for people: colours, one-line messages (tables: table.ts).
// `--json` output bypasses this and prints what the API returned. Text from outside (names,
// paths, file contents, server replies, process names) reaches a terminal only through `safe`.
import type { Allocation, Container, SystemUse } from "../core/model.ts";
import type { Io } from "./io.ts";

export type Colors = Record<"bold" | "dim" | "green" | "yellow" | "red", (text: string) => string>;

/** No colour: for text that is not a terminal's (an MCP answer). */
export const PLAIN: Colors = { bold: same, dim: same, green: same, yellow: same, red: same };

/** Colour only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org). */
export function colors(io: Io): Colors {
  if (!io.isTTY || io.env.NO_COLOR || io.env.TERM === "dumb") return PLAIN;
  // Loaded only for a terminal: picocolors inspects process.stdout as it loads, which costs a
  // compiled binary about 10 ms that a script piping our output should not pay.
  const pc = (require("picocolors") as typeof import("picocolors")).createColors(true);
  return { bold: pc.bold, dim: pc.dim, green: pc.green, yellow: pc.yellow, red: pc.red };
}

/**
 * Untrusted text made harmless for a terminal, on one line: C0/C1 controls, DEL, bidi controls,
 * line/paragraph separators and invisible format characters are shown as escapes (`\x1b`,
 * `\u202e`, `\u{e0041}`), so `"web\e]0;PWNED\a"` cannot set the title or write the clipboard
 * (OSC 52), and a name cannot hide a suffix or reverse itself. Everything else is kept as is; the
 * result contains nothing left to escape, so escaping twice changes nothing.
 */
export function safe(text: string | number | undefined | null): string {
  const s = String(text ?? "");
  // Printable ASCII holds nothing UNSAFE matches; a simple test skips the costlier replace. A
  // regex, not a loop: the regex is compiled to machine code, a loop over the characters runs
  // in the interpreter (a 250-row table's cells took 1-3 ms the loop's way).
  return PRINTABLE_ASCII.test(s) ? s : s.replace(UNSAFE, escapeChar);
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/**
 * `myapp/dev/postgres` (escaped: the names come from the server); another user's allocation
 * (#28) is `another user (alice)`, and one the registry's owner sees whole names its user.
 */
export function owner(
  a: Pick<Allocation, "app" | "instance" | "service" | "owner" | "hidden">,
): string {
  if (a.hidden) return safe(`another user (${a.owner})`);
  const whose = a.owner === undefined ? "" : ` of user ${a.owner}`;
  return safe(`${a.app}/${a.instance}/${a.service}${whose}`);
}

/** `myapp/dev/postgres (id=1)`; `another user (alice)` without an id to act on. */
export function holderText(a: Allocation): string {
  return a.hidden ? owner(a) : `${owner(a)} (id=${safe(a.id)})`;
}

/**
 * ` by container shop-db-1 (Compose project shop, ~/work/shop)` when an engine said which
 * container publishes the port, else ` by postgres (pid 812)`, ` by pid 812`, or nothing when
 * the OS would not say.
 */
export function processText(sys: SystemUse | undefined, home = process.env.HOME): string {
  if (sys?.container) return ` by ${containerText(sys.container, home)}`;
  // A process names itself (prctl, argv[0]): its name is untrusted text.
  if (sys?.process) return ` by ${safe(sys.process)}${sys.pid ? ` (pid ${safe(sys.pid)})` : ""}`;
  return sys?.pid ? ` by pid ${safe(sys.pid)}` : "";
}

/**
 * `container shop-db-1 (Compose project shop, ~/work/shop)`: the engine's names and labels are
 * anybody's text (whoever started the container chose them), escaped like every outside text.
 */
export function containerText(c: Container, home = process.env.HOME): string {
  const about: string[] = [];
  if (c.project) about.push(`Compose project ${safe(c.project)}`);
  // String(): the reply's shape is checked only as far as commands read it (client.ts).
  if (c.working_dir) about.push(safe(tilde(String(c.working_dir), home)));
  return `container ${safe(c.name)}${about.length ? ` (${about.join(", ")})` : ""}`;
}

/** `~/work/shop` for a folder under the home folder; any other path as it is. */
export function tilde(path: string, home: string | undefined): string {
  const h = home?.replace(/\/+$/, "");
  if (!h) return path;
  return path === h ? "~" : path.startsWith(`${h}/`) ? `~${path.slice(h.length)}` : path;
}

/** `just now`, `40 s ago`, `12 min ago`, `3 h ago`, `5 days ago`. */
export function ago(rfc3339: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(rfc3339)) / 1000));
  if (Number.isNaN(s)) return `at ${safe(rfc3339)}`;
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** Words as a shell reads them: bare when safe, else in single quotes. */
export function shellWords(words: readonly string[]): string {
  return words
    .map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

// --- internal ---

function same(text: string): string {
  return text;
}

// C0, DEL, C1; U+00AD; bidi (U+061C, U+200E/F, U+202A-E, U+2066-9); U+2028/9; invisible
// format and filler characters (U+115F/60, U+180E, U+200B, U+2060-64, U+206A-F, U+3164,
// U+FEFF, U+FFA0, U+FFF9-B, tags U+E0000-7F); lone surrogates. Not ZWJ/ZWNJ (U+200C/D): they
// join visible characters (emoji, Persian) and hide nothing on their own.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\u{e0000}-\u{e007f}\p{Cs}]/gu;

function escapeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\u{${cp.toString(16)}}`;
}
