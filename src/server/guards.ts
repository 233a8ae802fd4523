// Request guards for a daemon that every web page the user opens can reach: DNS rebinding
// (Host), cross-site writes (Sec-Fetch-Site / Origin), simple-request smuggling
// (Content-Type), and bodies declared too large. Reading a body is body.ts; the headers every
// response carries are respond.ts.
import { MAX_BODY_BYTES, MAX_IMPORT_BYTES } from "../core/config.ts";
import { PortError } from "../core/errors.ts";
import { tooLarge } from "./body.ts";

/**
 * Refuses, by throwing a PortError: a Host other than `127.0.0.1:<port>`, `localhost:<port>`
 * or `[::1]:<port>` (403); a write that is cross-site by `Sec-Fetch-Site` or, without it, by
 * `Origin` (403), in the manner of Go's `http.CrossOriginProtection` (requests with neither
 * header, like curl and portctl, are not from a browser); a body that is not JSON (415) or is
 * declared larger than 64 KiB (413). It runs before routing, on every request, so it is plain
 * synchronous code rather than a middleware.
 */
export function checkRequest(
  req: Request,
  port: number,
  viaSocket: (req: Request, env: unknown) => boolean = NEVER,
  env?: unknown,
): void {
  const headers = req.headers;
  const host = headers.get("host")?.toLowerCase();
  // Through the Unix socket no browser can be at the other end, and the client does not know
  // our TCP port: `localhost` alone is its Host (asked only then: it costs a look at the socket).
  const socketHost = host === "localhost" && viaSocket(req, env);
  if (!host || (!socketHost && !allowedHosts(port).has(host))) {
    throw new PortError(
      "forbidden",
      `host not allowed: ${host ? JSON.stringify(host) : "missing"}`,
    );
  }
  // Only writes carry a body we read; GET and HEAD bodies are never looked at.
  if (SAFE_METHODS.has(req.method)) return;
  crossOrigin(headers, host);
  if (hasBody(req)) bodyShape(headers, bodyLimit(req.url));
}

export const IMPORT_PATH = "/v1/import";

const NEVER = () => false;

// --- internal ---

/** The largest body a path accepts: 64 KiB, except a whole registry sent to `/v1/import`. */
function bodyLimit(url: string): number {
  const query = url.indexOf("?");
  const path = query < 0 ? url : url.slice(0, query);
  return path.endsWith(IMPORT_PATH) ? MAX_IMPORT_BYTES : MAX_BODY_BYTES;
}

let hostsFor = -1;
let hosts = new Set<string>();

/** `port` changes only once (a server on port 0 learns it after binding): build the set once. */
function allowedHosts(port: number): Set<string> {
  if (port !== hostsFor) {
    hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    hostsFor = port;
  }
  return hosts;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function crossOrigin(headers: Headers, host: string): void {
  const site = headers.get("sec-fetch-site");
  if (site !== null) {
    if (site !== "same-origin" && site !== "none") {
      throw new PortError("forbidden", `cross-site request refused (Sec-Fetch-Site: ${site})`);
    }
    return;
  }
  const origin = headers.get("origin");
  // Compared exactly, never by prefix: http://127.0.0.1:51234.evil.com is not us.
  if (origin !== null && origin !== `http://${host}`) {
    throw new PortError("forbidden", `cross-origin request refused (Origin: ${origin})`);
  }
}

function bodyShape(headers: Headers, limit: number): void {
  const type = headers.get("content-type") ?? "";
  if (type.split(";")[0]?.trim().toLowerCase() !== "application/json") {
    throw new PortError("unsupported_media_type", "Content-Type must be application/json");
  }
  if (Number(headers.get("content-length")) > limit) throw tooLarge(limit);
}

/** Bodiless requests (no length, not chunked) need no Content-Type. */
function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return req.headers.has("transfer-encoding") || req.body !== null;
}
