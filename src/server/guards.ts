// Request guards for a daemon that every web page the user opens can reach: DNS rebinding
// (Host), cross-site writes (Sec-Fetch-Site / Origin), simple-request smuggling
// (Content-Type), and oversized bodies.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { MAX_BODY_BYTES } from "../core/config.ts";
import { PortError } from "../core/errors.ts";

/** Headers every response carries, errors included. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("X-Content-Type-Options", "nosniff");
  c.res.headers.set("Cross-Origin-Resource-Policy", "same-origin");
};

/** Only `127.0.0.1:<port>`, `localhost:<port>` and `[::1]:<port>` may name this server. */
export function hostGuard(port: () => number): MiddlewareHandler {
  return async (c, next) => {
    const host = requestHost(c.req.raw);
    const p = port();
    const allowed = [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`];
    if (!host || !allowed.includes(host.toLowerCase())) {
      throw new PortError(
        "forbidden",
        `host not allowed: ${host ? JSON.stringify(host) : "missing"}`,
      );
    }
    await next();
  };
}

/**
 * Cross-origin protection in the manner of Go's `http.CrossOriginProtection`: safe methods
 * pass; otherwise `Sec-Fetch-Site` must be same-origin or none, or, without it, `Origin` must be
 * exactly our own origin. Requests with neither header (curl, portctl) are not from a browser.
 */
export const originGuard: MiddlewareHandler = async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    if (site !== undefined) {
      if (site !== "same-origin" && site !== "none") {
        throw new PortError("forbidden", `cross-site request refused (Sec-Fetch-Site: ${site})`);
      }
    } else if (
      origin !== undefined &&
      origin !== `http://${requestHost(c.req.raw)?.toLowerCase()}`
    ) {
      throw new PortError("forbidden", `cross-origin request refused (Origin: ${origin})`);
    }
  }
  await next();
};

/** Bodies must be JSON and at most 64 KiB. Bodiless requests (no length, not chunked) pass. */
export const bodyGuard: MiddlewareHandler = async (c, next) => {
  if (!hasBody(c.req.raw)) return next();
  const type = c.req.header("content-type") ?? "";
  if (type.split(";")[0]?.trim().toLowerCase() !== "application/json") {
    throw new PortError("unsupported_media_type", "Content-Type must be application/json");
  }
  return limit(c, next);
};

/** Reads the body as strict UTF-8 JSON. */
export async function readJson(req: Request): Promise<unknown> {
  const bytes = await req.arrayBuffer();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new PortError("bad_request", "request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PortError("bad_request", "request body is not valid JSON");
  }
}

// --- internal ---

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const limit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new PortError(
      "payload_too_large",
      `request body is larger than ${MAX_BODY_BYTES / 1024} KiB`,
    );
  },
});

function requestHost(req: Request): string | undefined {
  return req.headers.get("host") ?? undefined;
}

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return req.headers.has("transfer-encoding") || req.body !== null;
}
