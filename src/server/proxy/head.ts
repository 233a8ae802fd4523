// A request head (request line and header fields) read strictly, as RFC 9112 asks of a server
// in front of another: CRLF line ends only, no folded lines, field names that are tokens, one
// Host, and the body's framing decided here and refused when ambiguous (Content-Length with
// Transfer-Encoding, two lengths, a coding other than chunked): the request-smuggling cases.

export interface Head {
  method: string;
  target: string;
  version: "HTTP/1.0" | "HTTP/1.1";
  /** The fields in order, names as sent. */
  fields: [name: string, value: string][];
  host: string;
  /** How the body ends: none, after N bytes, or with the last chunk. */
  body: { kind: "none" } | { kind: "length"; bytes: number } | { kind: "chunked" };
  /** `Connection: upgrade` with an `Upgrade` field: after the head, bytes flow untouched. */
  upgrade: boolean;
}

/** Why a head is refused: the status to answer with and one line. */
export class HeadError extends Error {
  constructor(
    readonly status: 400 | 405 | 501,
    message: string,
  ) {
    super(message);
  }
}

/** The end of the head (index just past CRLFCRLF) in `buf`, or -1. */
export function headEnd(buf: Buffer): number {
  const i = buf.indexOf(CRLFCRLF);
  return i < 0 ? -1 : i + 4;
}

/** Parses `text` (the head without its final empty line); throws HeadError. */
export function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const [method, target, version, ...extra] = (lines[0] ?? "").split(" ");
  if (!method || !TOKEN.test(method) || !target || extra.length > 0) {
    throw new HeadError(400, "malformed request line");
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new HeadError(400, "only HTTP/1.0 and HTTP/1.1 are served");
  }
  if (method === "CONNECT")
    throw new HeadError(405, "CONNECT is not served: this is no forward proxy");
  // Origin form only (`/path?query`, or `*` for OPTIONS): an absolute URL names another host.
  if (
    !(target.startsWith("/") || (target === "*" && method === "OPTIONS")) ||
    !VISIBLE.test(target)
  ) {
    throw new HeadError(400, "the request target must be a path");
  }
  const fields: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) fields.push(field(lines[i] as string));
  return { method, target, version, fields, ...framing(fields) };
}

/** The values of every field named `name` (lower case). */
export function values(fields: [string, string][], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of fields) if (n.toLowerCase() === name) out.push(v);
  return out;
}

// --- internal ---

const CRLFCRLF = Buffer.from("\r\n\r\n");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VISIBLE = /^[\x21-\x7e]+$/;
// Field values: visible ASCII, spaces and tabs, and obs-text; never CR, LF or NUL.
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function field(line: string): [string, string] {
  const colon = line.indexOf(":");
  const name = colon > 0 ? line.slice(0, colon) : "";
  // A leading space or tab is a folded line (obsolete, a smuggling vector); `name :` likewise.
  if (!TOKEN.test(name)) throw new HeadError(400, "malformed header field");
  const value = line.slice(colon + 1).trim();
  if (!VALUE.test(value)) throw new HeadError(400, `invalid characters in ${name}`);
  return [name, value];
}

function framing(fields: [string, string][]): Pick<Head, "host" | "body" | "upgrade"> {
  const hosts = values(fields, "host");
  if (hosts.length !== 1 || !hosts[0]) throw new HeadError(400, "exactly one Host is required");
  const lengths = values(fields, "content-length");
  const codings = values(fields, "transfer-encoding");
  if (lengths.length > 0 && codings.length > 0) {
    throw new HeadError(400, "Content-Length with Transfer-Encoding is refused");
  }
  let body: Head["body"] = { kind: "none" };
  if (codings.length > 0) {
    if (codings.length > 1 || codings[0]?.toLowerCase() !== "chunked") {
      throw new HeadError(501, "the only transfer coding served is chunked");
    }
    body = { kind: "chunked" };
  } else if (lengths.length > 0) {
    const text = lengths[0] as string;
    if (lengths.some((l) => l !== text) || !/^\d{1,15}$/.test(text)) {
      throw new HeadError(400, "invalid Content-Length");
    }
    body = { kind: "length", bytes: Number(text) };
  }
  const connection = values(fields, "connection").join(",").toLowerCase().split(",");
  const upgrade =
    values(fields, "upgrade").length > 0 && connection.some((t) => t.trim() === "upgrade");
  return { host: hosts[0], body, upgrade };
}
