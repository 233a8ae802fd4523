// The dashboard at `/` and its bundled files, behind the API's guards, with a Content-Security-
// Policy that allows nothing but this origin's own script, style and fetches (no inline code,
// no framing), plus the API's nosniff/CORP. Any other path keeps the API's JSON 404.
import type { Context, Hono } from "hono";
import type { Engine } from "../../core/engine.ts";
import { listenersWithContainers } from "../../core/holder.ts";
import type { MachineListener } from "../../core/listeners.ts";
import { json, SECURITY_HEADERS } from "../respond.ts";
import { type Asset, dashboardAssets } from "./assets.ts";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS = {
  ...SECURITY_HEADERS,
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
} as const;

/** Paths of the dashboard (for 405's Allow): the page and its hashed files. */
export const UI_PATHS: [RegExp, string][] = [
  [/^\/(?:chunk-[\w-]+\.(?:js|css))?$/, "GET, HEAD"],
  [/^\/v1\/listeners$/, "GET, HEAD"],
];

/**
 * The page, its files, and `GET /v1/listeners` (every port something listens on; those an
 * engine's proxy holds with their container, from one question to the engine).
 */
export function registerUi(
  app: Hono,
  listeners: () => MachineListener[],
  engine: Engine | undefined,
): void {
  app.get("/v1/listeners", async () => json(await listenersWithContainers(listeners(), engine)));
  const serve = async (c: Context) => {
    const asset = (await dashboardAssets()).get(c.req.path);
    return asset ? respond(c.req.raw, asset, c.req.path === "/") : c.notFound();
  };
  app.get("/", serve);
  app.get("/:asset{chunk-[\\w-]+\\.(?:js|css)}", serve);
}

// --- internal ---

function respond(req: Request, asset: Asset, isPage: boolean): Response {
  const etag = `"${asset.etag}"`;
  const headers = {
    ...PAGE_HEADERS,
    "Content-Type": asset.type,
    ETag: etag,
    // The page is small and names the current chunks; chunks are content-hashed.
    "Cache-Control": isPage ? "no-cache" : "public, max-age=31536000, immutable",
  };
  if (req.headers.get("if-none-match") === etag)
    return new Response(null, { status: 304, headers });
  return new Response(asset.body, { headers });
}
