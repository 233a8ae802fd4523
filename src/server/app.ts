// The HTTP application: guards, then routes that call into core. Built by a factory with
// everything that varies injected, so tests drive it in-process with `app.request()`.
import { Hono } from "hono";
import type { Allocator } from "../core/allocator.ts";
import { PortError } from "../core/errors.ts";
import type { Probe } from "../core/probe.ts";
import type { Store } from "../core/store.ts";
import { VERSION } from "../core/version.ts";
import { guard } from "./guards.ts";
import { registerRoutes } from "./routes.ts";
import { HTTP_STATUS } from "./status.ts";

export interface AppDeps {
  store: Store;
  allocator: Allocator;
  probe: Probe;
  /** The port this server listens on, for the Host check; a function because port 0 binds late. */
  port: () => number;
  pid?: number;
  version?: string;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use(guard(deps.port));
  registerRoutes(app, { ...deps, pid: deps.pid ?? process.pid, version: deps.version ?? VERSION });
  app.notFound((c) => c.json({ error: "not found", code: "not_found" }, 404));
  app.onError((err, c) => {
    const e = err instanceof PortError ? err : internal(err);
    const body = {
      error: e.message,
      code: e.code,
      ...(e.holder ? { holder: e.holder } : {}),
      ...e.details,
    };
    return c.json(body, HTTP_STATUS[e.code]);
  });
  return app;
}

// --- internal ---

function internal(err: unknown): PortError {
  // Never leak a stack trace to the client; the log gets the details.
  console.error("internal error:", err);
  return new PortError("internal", "internal server error");
}
