// Building blocks for the hostile-request table: exact request bytes aimed at one daemon, and
// the refusals they must meet, either our JSON error or Bun's HTTP parser rejecting the bytes
// before the app sees them.
import { httpBytes } from "../helpers/http.ts";

/** What a case needs to know about the server it attacks. */
export interface Ctx {
  port: number;
  /** `127.0.0.1:<port>` */
  host: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
}

export function ctxFor(port: number): Ctx {
  return { port, host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` };
}

export interface Req {
  method?: string;
  target?: string;
  version?: string;
  /** Default: ours. null: no Host line. An array: one Host line each. */
  host?: string | null | string[];
  /** Default: application/json when there is a body. null: none. */
  type?: string | null;
  headers?: [string, string][];
  body?: string | Uint8Array;
}

/** A request as bytes, `Connection: close` so the server ends the exchange. */
export function req(c: Ctx, r: Req = {}): Uint8Array {
  const hosts = r.host === undefined ? [c.host] : r.host === null ? [] : [r.host].flat();
  const type = r.type === undefined && r.body !== undefined ? "application/json" : r.type;
  const headers: [string, string][] = [
    ...hosts.map((h): [string, string] => ["Host", h]),
    ...(type ? [["Content-Type", type] as [string, string]] : []),
    ...(r.headers ?? []),
    ["Connection", "close"],
  ];
  const line = `${r.method ?? "POST"} ${r.target ?? "/v1/allocations"} ${r.version ?? "HTTP/1.1"}`;
  return httpBytes(line, headers, r.body);
}

/** A body that would create an allocation if the request got through. */
export const NEW = '{"app":"evil","instance":"x","service":"y"}';

/** `POST /v1/allocations` with NEW: a write that must not happen. */
export const post = (c: Ctx, r: Req = {}) => req(c, { body: NEW, ...r });
/** `DELETE /v1/allocations/1`: a seeded allocation that must survive. */
export const delId = (c: Ctx, r: Req = {}) =>
  req(c, { method: "DELETE", target: "/v1/allocations/1", ...r });
/** `DELETE /v1/allocations` filtering app "shop": would delete every seeded row. */
export const delFilter = (c: Ctx, r: Req = {}) =>
  req(c, { method: "DELETE", body: '{"app":"shop"}', ...r });

/** One header, as `Req` options. */
export const header = (name: string, value: string): Req => ({ headers: [[name, value]] });

/** Content-Length and Transfer-Encoding both, with a DELETE hidden where the two disagree. */
export const smuggle = (c: Ctx) =>
  post(c, {
    headers: [
      ["Content-Length", "4"],
      ["Transfer-Encoding", "chunked"],
    ],
    body: Buffer.concat([Buffer.from("0\r\n\r\n"), delId(c)]),
  });

/** NEW with more JSON members before the closing brace. */
export const newWith = (members: string) => `${NEW.slice(0, -1)}${members}}`;

/** A JSON text with raw bytes spliced into the app name. */
export const appWithBytes = (bytes: number[]) =>
  Buffer.concat([
    Buffer.from('{"app":"a'),
    Buffer.from(bytes),
    Buffer.from('","instance":"x","service":"y"}'),
  ]);

/** A chunked body of at least `size` bytes, in 4 KiB chunks. */
export function chunked(size: number): string {
  const chunk = "a".repeat(4096);
  return `${`1000\r\n${chunk}\r\n`.repeat(Math.ceil(size / chunk.length))}0\r\n\r\n`;
}

export interface Refused {
  status: number;
  /** Our JSON error: the exact message, or a pattern. */
  error?: string | RegExp;
  /** Refused by Bun's HTTP parser before the app: a bare status line, no body. */
  parser?: true;
  /** The server may reset while we still send (it refuses early): no answer read is fine too. */
  mayReset?: true;
  /** Bun closes the connection without any answer. */
  noAnswer?: true;
}

export const hostRefused = (h: string): Refused => ({
  status: 403,
  error: h ? `host not allowed: ${JSON.stringify(h)}` : "host not allowed: missing",
});
export const originRefused = (o: string): Refused => ({
  status: 403,
  error: `cross-origin request refused (Origin: ${o})`,
});
export const siteRefused = (s: string): Refused => ({
  status: 403,
  error: `cross-site request refused (Sec-Fetch-Site: ${s})`,
});
export const badRequest = (error: string | RegExp): Refused => ({ status: 400, error });

export const WRONG_TYPE: Refused = { status: 415, error: "Content-Type must be application/json" };
export const TOO_LARGE: Refused = {
  status: 413,
  error: "request body is larger than 64 KiB",
  mayReset: true,
};
export const BAD_PORT = badRequest("port must be an integer between 1 and 65535");
export const BAD_ID = badRequest("id must be a positive integer");
export const NOT_JSON = badRequest("request body is not valid JSON");
export const NOT_UTF8 = badRequest("request body is not valid UTF-8");
export const unknownField = (name: string) => badRequest(`unknown field: ${name}`);
export const METHOD: Refused = { status: 405, error: "method not allowed" };
export const PARSER_400: Refused = { status: 400, parser: true };
export const HEADERS_TOO_LARGE: Refused = { status: 431, parser: true, mayReset: true };
export const PARSER_505: Refused = { status: 505, parser: true };
export const PARSER_413: Refused = { status: 413, parser: true };
export const NO_ANSWER: Refused = { status: 0, parser: true, noAnswer: true };

/**
 * Names no one can see in full (issue #11, point 4): format characters, separators and other
 * default-ignorable code points, in the middle and at either edge (where trimming used to drop
 * some of them). As JSON escapes: `[where, escape, code point as the error names it]`.
 */
export const INVISIBLE_NAMES: [where: string, escape: string, shown: string][] = [
  ["zero-width space inside", "ev\\u200bil", "U+200B"],
  ["zero-width non-joiner inside", "ev\\u200cil", "U+200C"],
  ["zero-width joiner inside", "ev\\u200dil", "U+200D"],
  ["word joiner at the end", "evil\\u2060", "U+2060"],
  ["BOM at the start", "\\ufeffevil", "U+FEFF"],
  ["soft hyphen", "ev\\u00adil", "U+00AD"],
  ["an invisible tag-character suffix", "evil\\udb40\\udc41\\udb40\\udc7f", "U+E0041"],
  ["Arabic letter mark", "ev\\u061cil", "U+061C"],
  ["Mongolian vowel separator", "ev\\u180eil", "U+180E"],
  ["interlinear annotation anchor", "ev\\ufff9il", "U+FFF9"],
  ["line separator at the end", "evil\\u2028", "U+2028"],
  ["paragraph separator at the start", "\\u2029evil", "U+2029"],
  ["Hangul filler", "ev\\u3164il", "U+3164"],
  ["a name of one Hangul filler", "\\u3164", "U+3164"],
  ["variation selector", "evil\\ufe0f", "U+FE0F"],
];
