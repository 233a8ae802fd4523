// A typed client of the port-server HTTP API. It always talks to 127.0.0.1 (a PORT_SERVER_ADDR
// of localhost or [::1] means the daemon there: it listens on 127.0.0.1 only) and turns every
// failure into a PortError, so commands never see a raw network exception.

import type { ImportResult } from "../core/backup.ts";
import {
  CONNECT_TIMEOUT_MS,
  ENV,
  type Env,
  parseAddress,
  REQUEST_TIMEOUT_MS,
} from "../core/config.ts";
import { codeForStatus, isErrorCode, PortError } from "../core/errors.ts";
import type { MachineListener } from "../core/listeners.ts";
import type {
  AllocateRequest,
  Allocation,
  Filter,
  ListQuery,
  PortEvent,
  PortStatus,
  Project,
  ProjectRequest,
} from "../core/model.ts";
import type { PruneResult } from "../core/prune.ts";
import type { Session } from "../core/sessions.ts";

export interface Health {
  status: string;
  pid: number;
  version?: string;
  [key: string]: unknown;
}

export const NOT_RUNNING = "port-server is not running — start it with: portctl start";

export class Client {
  readonly base: string;
  /** PORT_SERVER_ADDR=unix:/path: every request goes through the daemon's Unix socket. */
  readonly socket: string | undefined;
  /** Where we talk to, for messages: `127.0.0.1:51234` or `unix:/path`. */
  readonly where: string;
  /** The same as a person reads it: `http://127.0.0.1:51234` or `unix:/path`. */
  readonly shown: string;

  constructor(env: Env) {
    let addr: ReturnType<typeof parseAddress>;
    try {
      addr = parseAddress(env[ENV.addr]);
    } catch (err) {
      throw new PortError("bad_request", (err as Error).message);
    }
    this.socket = addr.socket;
    // Through the socket the daemon takes Host `localhost` (no browser can be there).
    this.base = addr.socket ? "http://localhost" : `http://${addr.host}:${addr.port}`;
    this.where = addr.socket ? `unix:${addr.socket}` : `${addr.host}:${addr.port}`;
    this.shown = addr.socket ? this.where : this.base;
  }

  health(timeoutMs = CONNECT_TIMEOUT_MS): Promise<Health> {
    return this.#call("GET", "/healthz", isHealth, undefined, timeoutMs);
  }

  /** /healthz with the daemon's `PRAGMA quick_check` of its database (reads every page). */
  integrity(): Promise<Health & { integrity?: string }> {
    return this.#call("GET", "/healthz?check=integrity", isHealth);
  }

  allocate(
    req: AllocateRequest,
    opts: { reuse?: boolean; adopt?: boolean } = {},
  ): Promise<{
    allocation: Allocation;
    created: boolean;
    takenOverFrom?: string | null;
    /** A block's rows (`count` > 1), first port first. */
    block?: Allocation[];
  }> {
    const flags = Object.entries(opts).filter(([, on]) => on);
    const path = `/v1/allocations${flags.length ? `?${flags.map(([k]) => `${k}=true`).join("&")}` : ""}`;
    return this.#request("POST", path, req).then(async (res) => {
      const { taken_over_from, block, ...allocation } = await readJson<
        Allocation & { taken_over_from?: string | null; block?: Allocation[] }
      >(res, isAllocation);
      if (block !== undefined && !arrayOf(isAllocation)(block)) {
        throw new PortError("daemon", "unexpected answer from the server; is it port-server?");
      }
      return {
        allocation,
        created: res.status === 201,
        ...(taken_over_from === undefined ? {} : { takenOverFrom: taken_over_from }),
        ...(block ? { block } : {}),
      };
    });
  }

  /** This checkout's Compose project name (POST /v1/projects). */
  claimProject(req: ProjectRequest): Promise<Project & { taken_over_from?: string }> {
    return this.#call("POST", "/v1/projects", isProject, req);
  }

  projects(q: Record<string, string | undefined> = {}, timeoutMs?: number): Promise<Project[]> {
    return this.#call("GET", `/v1/projects${query(q)}`, arrayOf(isProject), undefined, timeoutMs);
  }

  releaseProject(id: number): Promise<{ status: string }> {
    return this.#call("DELETE", `/v1/projects/${id}`, has({ status: isString }));
  }

  events(q: Record<string, string | number | undefined> = {}): Promise<PortEvent[]> {
    return this.#call("GET", `/v1/events${query(q)}`, arrayOf(isEvent));
  }

  prune(req: {
    dry_run: boolean;
    unused_for?: string;
    app?: string;
    checkout?: string;
  }): Promise<PruneResult> {
    return this.#call(
      "POST",
      "/v1/prune",
      has({ candidates: arrayOf(has({ allocation: isAllocation })) }),
      req,
    );
  }

  import(rows: unknown): Promise<ImportResult> {
    return this.#call("POST", "/v1/import", has({ imported: arrayOf(isAllocation) }), rows);
  }

  list(q: ListQuery = {}, timeoutMs?: number): Promise<Allocation[]> {
    return this.#call(
      "GET",
      `/v1/allocations${query(q)}`,
      arrayOf(isAllocation),
      undefined,
      timeoutMs,
    );
  }

  port(port: number): Promise<PortStatus> {
    return this.#call("GET", `/v1/ports/${port}`, isPortStatus);
  }

  /** Every listening port with its process, and its container behind an engine's proxy. */
  listeners(): Promise<MachineListener[]> {
    return this.#call("GET", "/v1/listeners", arrayOf(has({ port: isInteger })));
  }

  release(id: number): Promise<{ status: string }> {
    return this.#call("DELETE", `/v1/allocations/${id}`, has({ status: isString }));
  }

  releaseWhere(filter: Filter): Promise<{ deleted: number }> {
    return this.#call("DELETE", "/v1/allocations", has({ deleted: isInteger }), filter);
  }

  sessions(): Promise<Session[]> {
    return this.#call("GET", "/v1/sessions", arrayOf(isSession));
  }

  heartbeat(id: string, ttl?: string): Promise<Session> {
    const path = `/v1/sessions/${encodeURIComponent(id)}/heartbeat`;
    return this.#call("POST", path, isSession, ttl === undefined ? {} : { ttl });
  }

  endSession(id: string): Promise<{ released: Allocation[] }> {
    const path = `/v1/sessions/${encodeURIComponent(id)}`;
    return this.#call("DELETE", path, has({ released: arrayOf(isAllocation) }));
  }

  // --- internal ---

  async #call<T>(
    method: string,
    path: string,
    shape: Guard,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<T> {
    const res = await this.#request(method, path, body, timeoutMs);
    return readJson<T>(res, shape);
  }

  async #request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        // Our PID goes into the history with every change we make.
        headers: {
          "X-Client-Pid": String(process.pid),
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        ...(this.socket ? { unix: this.socket } : {}),
      });
    } catch (err) {
      if ((err as Error).name === "TimeoutError") {
        throw new PortError(
          "unreachable",
          `port-server at ${this.where} did not answer within ${timeoutMs} ms`,
        );
      }
      throw new PortError("unreachable", NOT_RUNNING);
    }
    if (res.ok) return res;
    throw await toError(res);
  }
}

// --- internal ---

function query(q: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams(
    Object.entries(q).flatMap(([k, v]): [string, string][] =>
      v === undefined ? [] : [[k, String(v)]],
    ),
  );
  return params.size ? `?${params}` : "";
}

/**
 * The body as JSON of the expected shape; anything else (HTML, or JSON of another program)
 * means something other than port-server holds our port.
 */
async function readJson<T>(res: Response, shape: Guard = isObject): Promise<T> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (body !== undefined && shape(body)) return body as T;
  throw new PortError(
    "daemon",
    `unexpected answer from the server (HTTP ${res.status}); is it port-server?`,
  );
}

// The fields commands read, checked by hand: zod stays out of every command's start-up.
type Guard = (v: unknown) => boolean;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isString: Guard = (v) => typeof v === "string";
const isInteger: Guard = (v) => Number.isSafeInteger(v);
const has =
  (fields: Record<string, Guard>): Guard =>
  (v) => {
    if (!isObject(v)) return false;
    // for…in, not entries().every(): a cold `portctl check` pays for each builtin it first calls.
    for (const k in fields) if (!fields[k]?.(v[k])) return false;
    return true;
  };
const arrayOf =
  (g: Guard): Guard =>
  (v) =>
    Array.isArray(v) && v.every(g);
const isAllocation = has({
  id: isInteger,
  port: isInteger,
  app: isString,
  instance: isString,
  service: isString,
  created_at: isString,
});
const isProject = has({
  id: isInteger,
  name: isString,
  natural: isString,
  app: isString,
  instance: isString,
  checkout: isString,
});
const isSession = has({ id: isString, started_at: isString, allocations: arrayOf(isAllocation) });
const isEvent = has({ id: isInteger, at: isString, kind: isString, port: isInteger });
const isHealth = has({ status: isString });
const isPortStatus = has({
  port: isInteger,
  available: (v) => typeof v === "boolean",
  system: isObject,
});

async function toError(res: Response): Promise<PortError> {
  let body: Record<string, unknown>;
  try {
    body = await readJson<Record<string, unknown>>(res);
  } catch (err) {
    return err as PortError;
  }
  const { error, code, holder, ...details } = body;
  const message = typeof error === "string" ? error : `HTTP ${res.status}`;
  return new PortError(
    isErrorCode(code) ? code : codeForStatus(res.status),
    message,
    holder as Allocation | undefined,
    details,
  );
}
