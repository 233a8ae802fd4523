// The name rule's characters, without zod: what portctl checks on a name it made up itself (a
// folder's or a branch's) before sending it, so a bad one is refused naming where it came from.
// fields.ts builds the API's nameSchema on the same two classes.
import { MAX_NAME_LENGTH } from "./config.ts";

// C0/C1 controls (what is left once the edges' whitespace is trimmed), and the bidirectional
// overrides and isolates (U+200E/F, U+202A–E, U+2066–9) that would make a name print as
// something else in a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// What no one can see: format characters (Cf: zero-width U+200B–D, U+2060, U+FEFF, U+00AD, tags
// U+E0000–7F, U+061C, U+180E, U+FFF9–B…), line and paragraph separators, and every other
// default-ignorable code point (U+3164, variation selectors). Two names that look the same must
// be the same name, and an invisible suffix must not ride along to agents.
export const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/** Why `raw` cannot be a name, in nameSchema's words (`must be at most 128 characters`). */
export function nameProblem(raw: string): string | undefined {
  const bad = INVISIBLE.exec(raw)?.[0];
  if (bad !== undefined) {
    const cp = (bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    return `must not contain U+${cp} (an invisible or format character)`;
  }
  const name = raw.trim();
  if (CONTROL.test(name)) return "must not contain control characters";
  if (!name.isWellFormed()) return "must be valid Unicode";
  const nfc = name.normalize("NFC");
  if (nfc.length === 0) return "must not be empty";
  if (nfc.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  return undefined;
}
