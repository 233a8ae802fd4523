// The HTTP application: guards, then routes that call into core. Built by a factory with
// everything that varies injected, so tests drive it in-process with `app.request()`.
import { Hono } from "hono";
import type { Allocator } from "../core/allocator.ts";
import type { Engine } from "../core/engine.ts";
import { PortError } from "../core/errors.ts";
import type { MachineListener } from "../core/listeners.ts";
import type { Probe } from "../core/probe.ts";
import type { Store } from "../core/store.ts";
import { VERSION } from "../core/version.ts";
import { checkRequest } from "./guards.ts";
import type { ProxyStatus } from "./proxy/listener.ts";
import { errorResponse, json } from "./respond.ts";
import { allowedMethods, registerRoutes } from "./routes.ts";

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
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  registerRoutes(app, { ...deps, pid: deps.pid ?? process.pid, version: deps.version ?? VERSION });
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    // A known path asked with one of its own methods but not found (a dashboard file that
    // does not exist) is a 404, not a 405.
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    return allow && !allow.split(", ").includes(method)
      ? errorResponse(new PortError("method_not_allowed", "method not allowed"), { Allow: allow })
      : json({ error: "not found", code: "not_found" }, 404);
  });
  app.onError((err) => errorResponse(err));
  // The guards run before Hono routes anything. `app.request()` (the tests) goes through
  // `app.fetch` too, so there is no unguarded way in.
  const route = app.fetch;
  app.fetch = (req, ...rest) => {
    try {
      checkRequest(req, deps.port());
    } catch (err) {
      return errorResponse(err);
    }
    return route(req, ...rest);
  };
  return app;
}
