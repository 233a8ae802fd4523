import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { PortError } from "../../core/errors.ts";
import type { Filter } from "../../core/model.ts";
import { Client } from "../client.ts";
import { detectOwner } from "../detect.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";

export interface ReleaseOptions {
  id?: number;
  app?: string;
  instance?: string;
  service?: string;
  port?: number;
  json?: boolean;
}

/** By id, or by a filter (fields AND-ed); without --app or --port, this checkout's app and instance. */
export async function release(opts: ReleaseOptions, io: Io): Promise<number> {
  const client = new Client(io.env);
  if (opts.id !== undefined) {
    if (opts.app ?? opts.instance ?? opts.service ?? opts.port) {
      throw new PortError(
        "bad_request",
        "--id cannot be combined with --app, --instance, --service or --port",
      );
    }
    const res = await client.release(opts.id);
    if (opts.json) printJson(io, res);
    else io.out(`released allocation ${opts.id}`);
    return 0;
  }
  const filter = buildFilter(opts, io.cwd);
  const res = await client.releaseWhere(filter).catch((err: unknown) => {
    if (err instanceof PortError && err.code === "not_found") return { deleted: 0 };
    throw err;
  });
  // A whole app or instance: its checkouts' Compose project names go with its ports.
  const projects =
    filter.service === undefined && filter.port === undefined
      ? await releaseProjects(client, filter)
      : [];
  // As the seed's exit codes say: nothing to release is "not found" (with --json, the error).
  if (res.deleted === 0 && projects.length === 0)
    throw new PortError("not_found", `no allocations match ${describeFilter(filter)}`);
  if (opts.json) printJson(io, projects.length ? { ...res, projects } : res);
  else {
    const names = projects.length
      ? ` and Compose project name${projects.length === 1 ? "" : "s"} ${safe(projects.join(", "))}`
      : "";
    io.out(
      `released ${res.deleted} allocation${res.deleted === 1 ? "" : "s"}${names} (${describeFilter(filter)})`,
    );
  }
  return 0;
}

async function releaseProjects(client: Client, filter: Filter): Promise<string[]> {
  const held = await client.projects({ app: filter.app, instance: filter.instance });
  const out: string[] = [];
  for (const p of held) {
    await client.releaseProject(p.id).catch((err: unknown) => {
      // Released by someone else in between: nothing to free.
      if (!(err instanceof PortError && err.code === "not_found")) throw err;
    });
    out.push(p.name);
  }
  return out;
}

/**
 * Without --app or --port the filter is this checkout: the detected app *and* instance, so a
 * bare `portctl release` in one worktree never touches another's ports. An explicit --app means
 * every instance of it unless --instance narrows it.
 */
export function buildFilter(opts: ReleaseOptions, cwd: string): Filter {
  const filter: Filter = {};
  if (opts.port !== undefined) filter.port = opts.port;
  const here = opts.app === undefined && opts.port === undefined;
  // A folder already deleted (`-C` in a WorktreeRemove hook) has no .git to detect from: its
  // allocations are the ones recorded with that checkout.
  if (here && !existsSync(cwd)) {
    filter.checkout = resolve(cwd);
    if (opts.instance !== undefined) filter.instance = opts.instance;
    if (opts.service !== undefined) filter.service = opts.service;
    return filter;
  }
  const { app, instance } = here ? detectOwner(cwd, { instance: opts.instance }) : opts;
  if (app !== undefined) filter.app = app;
  if (instance !== undefined) filter.instance = instance;
  if (opts.service !== undefined) filter.service = opts.service;
  return filter;
}

/** `app=shop instance=main`, for "no allocations match …"; escaped for a terminal. */
export function describeFilter(f: Filter): string {
  return safe(
    Object.entries(f)
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
  );
}
