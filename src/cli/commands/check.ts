import { Client } from "../client.ts";
import type { Io } from "../io.ts";
import { colors, holderText, printJson } from "../output.ts";

export interface CheckOptions {
  port: number;
  json?: boolean;
}

/** Exit 0 when the port is free, 1 when it is taken. */
export async function check(opts: CheckOptions, io: Io): Promise<number> {
  const status = await new Client(io.env).port(opts.port);
  if (opts.json) printJson(io, status);
  else {
    const c = colors(io);
    io.out(
      status.holder
        ? `port ${opts.port} is ${c.yellow("allocated")} to ${holderText(status.holder)}`
        : `port ${opts.port} is ${c.green("available")}`,
    );
  }
  return status.available ? 0 : 1;
}
