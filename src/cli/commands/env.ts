import { resolve } from "node:path";
import { realOrResolved } from "../../core/files.ts";
import type { Project } from "../../core/model.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner } from "../detect.ts";
import {
  type ENV_FORMATS,
  type EnvEntry,
  envEntries,
  mergeDotenv,
  renderDotenv,
  renderExport,
} from "../envfile.ts";
import { ownInstance } from "../instance.ts";
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
  const { app, ...derived } = detectOwner(io.cwd, opts);
  const client = new Client(io.env);
  let instance = derived.instance;
  // One round trip in the usual case: the rows and the project names together.
  let [rows, projects] = await Promise.all([
    client.list({ app, instance }),
    client.projects({ app, instance }),
  ]);
  // A second clone on the same branch: its own instance, found by its checkout.
  const own =
    opts.instance === undefined ? await ownInstance(client, app, rows, io.cwd) : undefined;
  if (own) {
    ({ instance, rows } = own);
    projects = await client.projects({ app, instance });
  }
  const entries: EnvEntry[] = envEntries(rows);
  // The checkout's Compose project name, so a plain `docker compose` (or a .env written by
  // --write) runs this checkout's stack: only when it holds exactly one.
  const checkout = detectCheckoutPath(io.cwd);
  const mine = projects.filter((p) => p.checkout === checkout);
  if (mine.length === 1) entries.push(["COMPOSE_PROJECT_NAME", (mine[0] as Project).name]);
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
        `wrote ${rows.length} port${rows.length === 1 ? "" : "s"} of ${app}/${instance}${entries.length > rows.length ? " and its Compose project name" : ""} to ${opts.write}`,
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
