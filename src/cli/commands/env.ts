import { resolve } from "node:path";
import { realOrResolved } from "../../core/files.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner } from "../detect.ts";
import {
  type ENV_FORMATS,
  envEntries,
  mergeDotenv,
  renderDotenv,
  renderExport,
} from "../envfile.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";
import { refuseLinkOut, rewriteFile } from "../rewrite.ts";

export interface EnvOptions {
  app?: string;
  instance?: string;
  format?: (typeof ENV_FORMATS)[number];
  /** Update our keys in this .env file instead of printing. */
  write?: string;
}

/** The current app/instance's ports as `SERVICE_PORT=N`, printed or merged into a .env file. */
export async function env(opts: EnvOptions, io: Io): Promise<number> {
  const { app, instance } = detectOwner(io.cwd, opts);
  const rows = await new Client(io.env).list({ app, instance });
  const entries = envEntries(rows);
  if (opts.write !== undefined) {
    const path = resolve(io.cwd, opts.write);
    refuseLinkOut(
      resolve(realOrResolved(io.cwd), opts.write),
      opts.write,
      detectCheckoutPath(io.cwd),
    );
    rewriteFile(path, (before) => mergeDotenv(before, entries));
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
