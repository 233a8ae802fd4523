import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileError, PortError } from "../../core/errors.ts";
import { writeAtomic } from "../../core/files.ts";
import { Client } from "../client.ts";
import { detectApp, detectInstance } from "../detect.ts";
import {
  type ENV_FORMATS,
  envEntries,
  mergeDotenv,
  renderDotenv,
  renderExport,
} from "../envfile.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";

export interface EnvOptions {
  app?: string;
  instance?: string;
  format?: (typeof ENV_FORMATS)[number];
  /** Update our keys in this .env file instead of printing. */
  write?: string;
}

/** The current app/instance's ports as `SERVICE_PORT=N`, printed or merged into a .env file. */
export async function env(opts: EnvOptions, io: Io): Promise<number> {
  const app = opts.app ?? detectApp(io.cwd);
  const instance = opts.instance ?? detectInstance(io.cwd);
  const rows = await new Client(io.env).list({ app, instance });
  const entries = envEntries(rows);
  if (opts.write !== undefined) {
    const path = resolve(io.cwd, opts.write);
    writeMerged(path, entries);
    io.out(
      safe(
        `wrote ${entries.length} port${entries.length === 1 ? "" : "s"} of ${app}/${instance} to ${opts.write}`,
      ),
    );
    return 0;
  }
  if (rows.length === 0) io.err(safe(`no allocations for ${app}/${instance}`));
  if (opts.format === "json") printJson(io, Object.fromEntries(entries));
  else
    for (const line of opts.format === "export" ? renderExport(entries) : renderDotenv(entries))
      io.out(line);
  return 0;
}

// --- internal ---

/**
 * All or nothing: the new text goes to a temp file beside the target (a random name, created
 * exclusively: a planted link there is never followed), then is renamed over it. A target that
 * is not UTF-8 text (a binary file, perhaps reached through a symlink) is refused untouched:
 * decoding it would have replaced its bytes with U+FFFD.
 */
function writeMerged(target: string, entries: ReturnType<typeof envEntries>): void {
  const exists = existsSync(target);
  // Through a symlinked .env to the file it names, so the link survives.
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
  // An existing file keeps exactly the mode it had; a new one gets 0644 less the umask.
  const mode = exists ? statSync(path).mode & 0o777 : 0o644 & ~process.umask();
  try {
    writeAtomic(path, mergeDotenv(before, entries), mode);
  } catch (err) {
    throw fileError("write", path, err);
  }
}

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
