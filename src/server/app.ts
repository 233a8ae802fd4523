// The HTTP application: guards, then routes that call into core. Built by a factory with
// everything that varies injected, so tests drive it in-process with `app.request()`.
import { Hono } from "hono";
import type { Allocator } from "../core/allocator.ts";
import type { Engine } from "../core/engine.ts";
import { PortError } from "../core/errors.ts";
import type { MachineListener } from "../core/listeners.ts";
import { Owners } from "../core/owners.ts";
import type { Peer } from "../core/peercred.ts";
import type { Probe } from "../core/probe.ts";
import type { Store } from "../core/store.ts";
import { VERSION } from "../core/version.ts";
import type { Identify } from "./caller.ts";
import { checkRequest } from "./guards.ts";
import type { ProxyStatus } from "./proxy/listener.ts";
import { errorResponse, json } from "./respond.ts";
import { allowedMethods, registerRoutes } from "./routes.ts";
import { viewerOf } from "./views.ts";

export interface AppDeps {
  store: Store;
  allocator: Allocator;
  probe: Probe;
  /** The port this server listens on, for the Host check; a function because port 0 binds late. */
  port: () => number;
  pid?: number;
  version?: string;
  /** The names proxy's state, for /healthz (none: no proxy runs, as in most API tests). */
  proxy?: ProxyStatus;
  /** Every listener on the machine, for the dashboard (default: the real machine's). */
  listeners?: () => MachineListener[];
  /** The container engines asked who publishes a port an engine's proxy holds (none: never asked). */
  engine?: Engine;
  /** Whose rows are whose (default: the allocator's). */
  owners?: Owners;
  /**
   * The uid behind a request, from the kernel (server/caller.ts; main.ts gives the real one).
   * Default: every request is the daemon's own user's (tests that need others inject this).
   */
  identify?: Identify;
  /** Whether a request came in through our Unix socket (no TCP port in its Host). */
  fromSocket?: (req: Request, env: unknown) => boolean;
}

/** What the edge passes down with each request (Hono's `c.env`): who asks, asked lazily. */
export interface Edge {
  /** The kernel's uid for this request, asked once, on first use; undefined when unknown. */
  uid: () => number | undefined;
  /** The client's process, when it came through the Unix socket (SO_PEERCRED). */
  pid: () => number | undefined;
}

/** The request's Edge: the kernel asked on first use, once. */
class RequestEdge implements Edge {
  #known = false;
  #peer: Peer | undefined;

  constructor(
    readonly req: Request,
    readonly env: unknown,
    readonly identify: Identify,
  ) {}

  uid(): number | undefined {
    return this.#ask()?.uid;
  }

  pid(): number | undefined {
    return this.#ask()?.pid;
  }

  #ask(): Peer | undefined {
    if (!this.#known) {
      this.#peer = this.identify(this.req, this.env);
      this.#known = true;
    }
    return this.#peer;
  }
}

const NEVER = () => false;

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const owners = deps.owners ?? deps.allocator.owners ?? new Owners(process.getuid?.() ?? 0);
  const identify: Identify = deps.identify ?? (() => ({ uid: owners.daemonUid }));
  registerRoutes(app, {
    ...deps,
    owners,
    pid: deps.pid ?? process.pid,
    version: deps.version ?? VERSION,
  });
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    // A known path asked with one of its own methods but not found (a dashboard file that
    // does not exist) is a 404, not a 405.
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    return allow && !allow.split(", ").includes(method)
      ? errorResponse(new PortError("method_not_allowed", "method not allowed"), { Allow: allow })
      : json({ error: "not found", code: "not_found" }, 404);
  });
  // An error's holder is shown as this caller may see it (another user's: port and owner only).
  app.onError((err, c) => errorResponse(viewerOf(c, owners).error(err)));
  // The guards run before Hono routes anything. `app.request()` (the tests) goes through
  // `app.fetch` too, so there is no unguarded way in. Identity is established here, at the
  // edge, from the connection (Bun.serve's server object), and passed down as data; it is
  // asked of the kernel only when a route needs it (a free port's check never does).
  const route = app.fetch;
  const fromSocket = deps.fromSocket ?? NEVER;
  app.fetch = (req, env, ctx) => {
    try {
      checkRequest(req, deps.port(), fromSocket, env);
    } catch (err) {
      return errorResponse(err);
    }
    // One object per request, its methods on the prototype: a check pays no closures.
    return route(req, new RequestEdge(req, env, identify), ctx);
  };
  return app;
}
