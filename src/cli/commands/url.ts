// `portctl url [--service S]`: this checkout's service under its .localhost name, through the
// daemon's proxy (`http://web.shop.localhost:2080`). Only for a service known to serve HTTP:
// never an http:// URL for a database.
import { PortError } from "../../core/errors.ts";
import type { Allocation } from "../../core/model.ts";
import { Client } from "../client.ts";
import { detectOwner } from "../detect.ts";
import { ownInstance } from "../instance.ts";
import type { Io } from "../io.ts";
import { owner, printJson, safe } from "../output.ts";
import { defaultService } from "./run.ts";

export interface UrlOptions {
  app?: string;
  instance?: string;
  service?: string;
  json?: boolean;
}

export async function url(opts: UrlOptions, io: Io): Promise<number> {
  const { app, ...derived } = detectOwner(io.cwd, opts);
  let instance = derived.instance;
  const service = opts.service ?? defaultService(io.cwd);
  const client = new Client(io.env);
  let [a] = await client.list({ app, instance, service });
  // A second clone on the same branch: its own instance, found by its checkout.
  const own =
    opts.instance === undefined && a ? await ownInstance(client, app, [a], io.cwd) : undefined;
  if (own) {
    instance = own.instance;
    a = own.rows.find((r) => r.service === service);
  }
  if (!a) {
    throw new PortError(
      "not_found",
      safe(
        `${app}/${instance}/${service} has no port yet — portctl run -- <your dev server> gives it one`,
      ),
    );
  }
  if (!a.url) throw await noUrl(a, client);
  if (opts.json) printJson(io, a);
  else io.out(safe(a.url));
  return 0;
}

// --- internal ---

/** Why there is no URL: no proxy runs, or nothing says the service speaks HTTP. */
async function noUrl(a: Allocation, client: Client): Promise<PortError> {
  const health = await client.health();
  const proxy = health.proxy as { port?: number | null; note?: string } | undefined;
  if (a.name === undefined || !proxy || proxy.port === null || proxy.port === undefined) {
    const why = proxy?.note ? ` (${safe(proxy.note)})` : "";
    return new PortError(
      "not_found",
      `the daemon's names proxy is not running${why}; see portctl doctor`,
    );
  }
  return new PortError(
    "not_found",
    `${owner(a)} (${safe(a.name)}) is not known to serve HTTP — portctl run starts it as a dev server; portctl allocate --service ${safe(a.service)} --reuse --http marks it`,
  );
}
