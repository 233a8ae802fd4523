// The daemon's address held by something that is not port-server (a dev server on 51234, a
// stuck process): who holds it, and the command that runs the registry somewhere else. Said the
// same way by start, status and doctor, which otherwise called it "not running" and suggested
// `portctl start`, which then failed.
import { DEFAULT_HOST, ENV, type Env, parseAddress } from "../core/config.ts";
import type { SystemUse } from "../core/model.ts";
import { systemProbe } from "../core/probe.ts";
import { portServerExecutable } from "./identity.ts";
import { processText } from "./output.ts";

export interface Taken {
  /** `127.0.0.1:51234` */
  address: string;
  use: SystemUse;
  /** `export PORT_SERVER_ADDR=127.0.0.1:51235 && portctl start`: a port nothing listens on now. */
  fix: string;
}

/**
 * What listens on PORT_SERVER_ADDR's port when it is not a port-server (asked when no daemon of
 * ours answers there); undefined when nothing listens, or a port-server does (one starting, or
 * hung: not answering is another problem).
 */
export function addressTaken(env: Env): Taken | undefined {
  const { port } = parseAddress(env[ENV.addr]);
  const probe = systemProbe();
  const use = probe.who(port);
  if (!use.in_use || (use.pid !== undefined && portServerExecutable(use.pid) === true)) {
    return undefined;
  }
  const listening = probe.listening();
  let free = port + 1;
  while (free < 65535 && listening(free)) free++;
  return {
    address: `${DEFAULT_HOST}:${port}`,
    use,
    fix: `export ${ENV.addr}=${DEFAULT_HOST}:${free} && portctl start`,
  };
}

/** `127.0.0.1:51234 is taken by python3 (pid 812), which is not port-server` */
export function takenLine(t: Taken): string {
  const who = processText(t.use) || " by a process this user cannot see";
  return `${t.address} is taken${who}, which is not port-server`;
}
