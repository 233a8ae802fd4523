import type { PortStatus } from "../../core/model.ts";
import { Client } from "../client.ts";
import type { Io } from "../io.ts";
import { ago, type Colors, colors, holderText, owner, printJson, processText } from "../output.ts";

export interface CheckOptions {
  port: number;
  json?: boolean;
}

/** Exit 0 when the port is free (neither registered nor listening), 1 when it is taken. */
export async function check(opts: CheckOptions, io: Io): Promise<number> {
  const status = await new Client(io.env).port(opts.port);
  if (opts.json) printJson(io, status);
  else io.out(checkLine(status, colors(io), io.env.HOME));
  return status.available ? 0 : 1;
}

/**
 * `port 5432 is in use by container shop-db-1 (Compose project shop, ~/work/shop), not
 * registered`: the one line check prints (and the MCP check tool's summary), escaped.
 */
export function checkLine(reply: PortStatus, c: Colors, home: string | undefined): string {
  // An integer (the shape was checked in client.ts): nothing to escape, and no regex to compile.
  const s = { ...reply, port: String(reply.port) };
  const inUse = s.system?.in_use ?? false;
  if (s.holder) {
    // A container publishing it: `, published by container shop-db-1 (…)`.
    const live = s.system.container
      ? `, published${processText(s.system, home)}`
      : inUse
        ? ", listening"
        : "";
    return `port ${s.port} is ${c.yellow("allocated")} to ${holderText(s.holder)}${live}`;
  }
  if (inUse && s.system.container) {
    return `port ${s.port} is ${c.yellow("in use")}${processText(s.system, home)}, not registered`;
  }
  if (inUse) {
    return `port ${s.port} is ${c.yellow("in use")} on this machine${processText(s.system)}, not registered`;
  }
  return `port ${s.port} is ${c.green("available")}${lastChange(s.last_event)}`;
}

// --- internal ---

/** ` (released 3 h ago from shop/main/web)`: what became of the port's last owner. */
function lastChange(e: PortStatus["last_event"]): string {
  if (!e || !Object.hasOwn(ENDED, e.kind)) return "";
  const verb = ENDED[e.kind as keyof typeof ENDED];
  return ` (${verb} ${ago(e.at)} from ${owner(e)})`;
}

const ENDED = { released: "released", pruned: "pruned", lease_ended: "lease ended" } as const;
