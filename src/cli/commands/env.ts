import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { resolve } from "node:path";
import { fileError } from "../../core/errors.ts";
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

/** All or nothing: the new text goes to a temp file beside the target, then is renamed over it. */
function writeMerged(target: string, entries: ReturnType<typeof envEntries>): void {
  const exists = existsSync(target);
  // Through a symlinked .env to the file it names, so the link survives.
  const path = exists ? realpathSync(target) : target;
  const tmp = `${path}.portctl-${process.pid}.tmp`;
  try {
    if (exists) accessSync(path, constants.R_OK | constants.W_OK);
    const before = exists ? readFileSync(path, "utf8") : "";
    const mode = exists ? statSync(path).mode & 0o777 : 0o644;
    writeFileSync(tmp, mergeDotenv(before, entries), { mode });
    // The umask applies to `mode` above; an existing file keeps exactly the mode it had.
    if (exists) chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fileError("write", path, err);
  }
}
