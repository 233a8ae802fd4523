// Error code → exit code and the one line a person reads, in one table. `satisfies` makes a
// new code fail to compile here until someone decides how the CLI reports it.
import type { ErrorCode, PortError } from "../core/errors.ts";
import type { SystemUse } from "../core/model.ts";
import { holderText, processText } from "./output.ts";

/** `home`: the folder a path under which is shown as `~/…` (the caller's HOME by default). */
type Describe = (e: PortError, home?: string) => string;

const asIs: Describe = (e) => e.message;

export const CLI_ERRORS = {
  bad_request: { exit: 1, line: asIs },
  forbidden: { exit: 1, line: (e) => `the server refused the request: ${e.message}` },
  not_yours: { exit: 1, line: asIs },
  not_found: { exit: 1, line: asIs },
  method_not_allowed: { exit: 1, line: asIs },
  payload_too_large: { exit: 1, line: asIs },
  unsupported_media_type: { exit: 1, line: asIs },
  port_allocated: {
    exit: 1,
    line: (e) =>
      e.holder
        ? `port ${e.holder.port} is already allocated to ${holderText(e.holder)}`
        : e.message,
  },
  service_allocated: { exit: 1, line: (e) => serviceLine(e) },
  name_taken: {
    exit: 1,
    line: (e) =>
      e.holder ? `${e.holder.name} is already the name of ${holderText(e.holder)}` : e.message,
  },
  env_key_taken: { exit: 1, line: asIs },
  port_in_use: { exit: 1, line: (e: PortError, home?: string) => inUseLine(e, home) },
  range_exhausted: { exit: 1, line: asIs },
  other_checkout: {
    exit: 1,
    line: (e) => `${e.message} — pass --instance to give it its own ports`,
  },
  import_conflict: { exit: 1, line: (e) => importLine(e) },
  project_taken: {
    exit: 1,
    line: (e) => `${e.message} — pass --force to take it, or drop -p to get this checkout's own`,
  },
  storage: { exit: 1, line: (e) => `port-server could not use its database: ${e.message}` },
  filesystem: { exit: 1, line: asIs },
  unreachable: { exit: 1, line: asIs },
  daemon: { exit: 1, line: asIs },
  internal: { exit: 1, line: (e) => `port-server failed: ${e.message} (see its log)` },
} as const satisfies Record<ErrorCode, { exit: number; line: Describe }>;

// --- internal ---

/** `nothing imported: 2 conflicts with the registry: port 3000 is allocated to …; …` */
function importLine(e: PortError): string {
  const conflicts = e.details?.conflicts;
  if (!Array.isArray(conflicts) || conflicts.length === 0) return e.message;
  return `${e.message}: ${conflicts.map((c: { reason?: unknown }) => String(c.reason)).join("; ")}`;
}

/**
 * A bad request's line that starts with one of the API's field names (`since must be…`, `lease_pid 999999 is
 * not a running process`) in the words of the command line: `--since`, `--lease-pid`.
 */
export function inFlagWords(e: PortError, line: string): string {
  // The field, then what is wrong with it (`must…`) or the value it was given (`999999 is…`).
  const m = e.code === "bad_request" ? /^([a-z_]+) (?=must |\d)/.exec(line) : null;
  const flag = m?.[1] && Object.hasOwn(API_FIELD_FLAGS, m[1]) ? API_FIELD_FLAGS[m[1]] : undefined;
  return flag ? `${flag}${line.slice((m?.[1] ?? "").length)}` : line;
}

/** The API's request fields that a portctl flag sets, by name. */
const API_FIELD_FLAGS: Record<string, string> = {
  app: "--app",
  instance: "--instance",
  service: "--service",
  port: "--port",
  since: "--since",
  limit: "--limit",
  lease_pid: "--lease-pid",
  unused_for: "--unused-for",
};

function inUseLine(e: PortError, home = process.env.HOME): string {
  const port = e.details?.port;
  const sys = e.details?.system as SystemUse | undefined;
  if (!port) return e.message;
  return sys?.container
    ? `port ${port} is in use${processText(sys, home)}, not registered`
    : `port ${port} is in use on this machine${processText(sys)}, not registered`;
}

/** `allocate --port N` for a service that holds another port cannot be fixed by --reuse. */
function serviceLine(e: PortError): string {
  const h = e.holder;
  if (!h || h.hidden) return e.message;
  const asked = e.details?.requested_port;
  if (typeof asked === "number" && asked !== h.port)
    return `${holderText(h)} already has port ${h.port}, not ${asked}; release it first to move it`;
  return `${holderText(h)} already has port ${h.port}; pass --reuse to get it back, or release it first`;
}
