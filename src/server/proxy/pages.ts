// The proxy's own answers, as whole HTTP/1.1 responses (bytes for the socket): small HTML pages
// for a person in a browser, every name from the registry escaped, a CSP that allows no script,
// and `Connection: close` (the proxy hangs up after any answer of its own).
import { RUN_DEFAULT_SERVICE } from "../../core/config.ts";
import type { Allocation } from "../../core/model.ts";
import { urlOf } from "../../core/names.ts";

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  508: "Loop Detected",
};

/** A page with a heading, a paragraph and, optionally, a list of names with links. */
export function page(
  status: number,
  title: string,
  text: string,
  opts: { names?: Allocation[]; proxyPort?: number; head?: boolean } = {},
): Buffer {
  const list = opts.names?.length
    ? `<ul>${opts.names.map((a) => item(a, opts.proxyPort ?? 80)).join("")}</ul>`
    : "";
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:3em auto;max-width:44em;padding:0 1em}code{background:#eee;padding:0 .3em}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>${list}<p><small>port-server proxy</small></p></body></html>\n`;
  const bytes = Buffer.byteLength(body);
  const headers = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}`,
    "Content-Type: text/html; charset=utf-8",
    `Content-Length: ${bytes}`,
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options: nosniff",
    "Cache-Control: no-store",
    "Connection: close",
    "",
    "",
  ].join("\r\n");
  return Buffer.from(opts.head ? headers : headers + body);
}

/**
 * “web of shop/fix-ui is not running — start it with: portctl run --instance fix-ui -- npm run
 * dev”: the instance is named, since the folder alone may give another (a second clone on the
 * same branch runs with --instance of its own).
 */
export function notRunning(a: Allocation): string {
  const service = `${a.service === RUN_DEFAULT_SERVICE ? "" : ` --service ${a.service}`} --instance ${a.instance}`;
  const where = a.checkout ? ` (in ${a.checkout})` : "";
  return `${a.service} of ${a.app}/${a.instance} is not running on port ${a.port} — start it with: portctl run${service} -- npm run dev${where}, or your own command after --`;
}

// --- internal ---

function item(a: Allocation, proxyPort: number): string {
  const url = urlOf(a.name, proxyPort);
  return `<li><a href="${escapeHtml(url)}">${escapeHtml(a.name)}</a> — ${escapeHtml(`${a.app}/${a.instance}/${a.service}`)}, port ${a.port}</li>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
