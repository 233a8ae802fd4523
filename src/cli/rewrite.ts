// Rewriting a file the user owns (a .env, an MCP host's configuration) all or nothing, through
// core/files.ts's writeAtomic (a random temp name beside it, O_EXCL|O_NOFOLLOW, then a rename).
// A symlink is followed to the file it names, so the link survives; an existing file keeps
// exactly its mode. A target that is not UTF-8 text (a binary file, perhaps reached through a
// symlink) is refused untouched: decoding it would have replaced its bytes with U+FFFD.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { fileError, PortError } from "../core/errors.ts";
import { realOrResolved, writeAtomic } from "../core/files.ts";

/**
 * `update` gets the current text ("" when there is no file) and returns the new one, or
 * undefined to leave the file alone. Returns whether it wrote. A PortError from `update` passes
 * through; a file system failure is one `filesystem` error, `cannot write <path>: <why>`.
 */
export function rewriteFile(
  target: string,
  update: (before: string) => string | undefined,
  opts: { createFolder?: boolean } = {},
): boolean {
  const exists = existsSync(target);
  const path = exists ? realpathSync(target) : target;
  let before = "";
  try {
    if (exists) {
      accessSync(path, constants.R_OK | constants.W_OK);
      before = decodeText(readFileSync(path));
    }
  } catch (err) {
    if (err instanceof PortError)
      throw new PortError(err.code, `cannot write ${path}: ${err.message}`, undefined, { path });
    throw fileError("write", path, err);
  }
  const text = update(before);
  if (text === undefined) return false;
  // An existing file keeps exactly the mode it had; a new one gets 0644 less the umask.
  const mode = exists ? statSync(path).mode & 0o777 : 0o644 & ~process.umask();
  try {
    if (opts.createFolder) mkdirSync(dirname(path), { recursive: true });
    writeAtomic(path, text, mode);
  } catch (err) {
    throw fileError("write", path, err);
  }
  return true;
}

/**
 * A path inside this checkout must not lead out of it: a cloned repository's `.env` (or a folder
 * on the way) may be a link to `~/.bashrc`. An explicit path outside the checkout is the user's.
 */
export function refuseLinkOut(path: string, asTyped: string, checkout: string): void {
  const inside = (p: string) => p === checkout || p.startsWith(checkout + sep);
  if (!inside(path)) return;
  const real = existsSync(path)
    ? realpathSync(path)
    : join(realOrResolved(dirname(path)), basename(path));
  if (inside(real)) return;
  throw new PortError(
    "filesystem",
    `refusing to write ${asTyped}: it leads to ${real}, outside this checkout (${checkout}); pass that path to --write if you mean it`,
    undefined,
    { path: real },
  );
}

// --- internal ---

/** UTF-8 text without NUL bytes, or a `filesystem` error saying what it is instead. */
function decodeText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new PortError("filesystem", "it is not UTF-8 text");
  }
  if (text.includes("\0")) throw new PortError("filesystem", "it is not a text file");
  return text;
}
