import { versionLine } from "../../core/version.ts";
import { Client } from "../client.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";

export async function health(opts: { json?: boolean }, io: Io): Promise<number> {
  const client = new Client(io.env);
  const h = await client.health();
  if (opts.json) printJson(io, h);
  else
    io.out(
      `port-server is healthy (pid ${safe(h.pid)}, version ${safe(h.version ?? "unknown")}) at ${safe(client.shown)}`,
    );
  return 0;
}

export function version(_opts: unknown, io: Io): Promise<number> {
  io.out(versionLine("portctl"));
  return Promise.resolve(0);
}
