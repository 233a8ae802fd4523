// A real daemon over the wire, for the reliability and security suites: JSON calls with fetch,
// exact bytes over a raw TCP socket where fetch would normalise what we mean to send (Host,
// framing, encodings), and a client that dribbles a request to see when the server gives up.
import { Database } from "bun:sqlite";
import { connect } from "node:net";
import type { Allocation } from "../../src/core/model.ts";
import { checkedFetch } from "./contract.ts";

export interface Names {
  app: string;
  instance: string;
  service: string;
}

const FETCH_TIMEOUT_MS = 10_000;

/**
 * `POST /v1/allocations` with a JSON body and no port: auto-assign. A burst of hundreds queues
 * behind the daemon's one writer, so the last waits for all the others: give it `timeoutMs`.
 */
export function allocate(
  url: string,
  names: Names,
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<Response> {
  return checkedFetch(`${url}/v1/allocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(names),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

export async function listAllocations(url: string): Promise<Allocation[]> {
  const res = await checkedFetch(`${url}/v1/allocations`, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (res.status !== 200) throw new Error(`GET /v1/allocations answered ${res.status}`);
  return (await res.json()) as Allocation[];
}

export async function healthStatus(url: string): Promise<number> {
  const res = await checkedFetch(`${url}/healthz`, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The rows of a database file and its `PRAGMA integrity_check`, read with our own connection. */
export function readDatabase(path: string): { rows: Allocation[]; integrity: string } {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .query<Allocation, []>(
        // `url` is the daemon's (it needs its proxy's port): the file says only whether there
        // is one, so rows of services marked HTTP do not compare equal to the API's.
        `SELECT id, app, instance, service, port, created_at, checkout, last_seen, lease_pid,
                lease_started_at, block_id, lease_session, name,
                CASE http WHEN 1 THEN 'http' END AS url
         FROM allocations ORDER BY id`,
      )
      .all();
    const integrity = db
      .query<{ integrity_check: string }, []>("PRAGMA integrity_check")
      .all()
      .map((r) => r.integrity_check)
      .join("\n");
    return { rows, integrity };
  } finally {
    db.close(false);
  }
}

/** One request as exact bytes: `headers` in order, duplicates kept; a body gets a Content-Length. */
export function httpBytes(
  requestLine: string,
  headers: [string, string][],
  body?: string | Uint8Array,
): Uint8Array {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const framed = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  const all = bytes && !framed ? [...headers, ["Content-Length", String(bytes.length)]] : headers;
  const head = `${requestLine}\r\n${all.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), bytes ?? new Uint8Array()]);
}

export interface RawResponse {
  /** null when the server closed the connection without answering. */
  status: number | null;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (rather than our timeout ending the wait). */
  closed: boolean;
}

/** Sends `bytes` on a new connection and reads until the server closes it (or `timeoutMs`). */
export function rawRequest(
  port: number,
  bytes: string | Uint8Array,
  timeoutMs = 5000,
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(chunks)), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (d) => chunks.push(Buffer.from(d)));
    socket.on("close", () => finish(true));
    // A server that refuses early (431, 413) may reset while we still write: the answer counts.
    socket.on("error", () => {});
    socket.write(bytes);
  });
}

export interface SlowResult {
  /** How long until the server closed the connection; null if it never did within the limit. */
  closedAfterMs: number | null;
  bytesSent: number;
  /** Whatever the server answered before closing. */
  received: string;
}

/**
 * Sends `prefix` at once, then `dribble` one byte every `intervalMs`, and reports when the
 * server hangs up (or that it had not within `limitMs`).
 */
export function slowRequest(
  port: number,
  prefix: string,
  dribble: string,
  intervalMs: number,
  limitMs: number,
): Promise<SlowResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = connect(port, "127.0.0.1");
    let sent = 0;
    let received = "";
    const finish = (closed: boolean) => {
      clearInterval(drip);
      clearTimeout(limit);
      socket.destroy();
      resolve({ closedAfterMs: closed ? Date.now() - start : null, bytesSent: sent, received });
    };
    if (prefix) socket.write(prefix);
    const drip = setInterval(() => {
      if (sent < dribble.length && !socket.destroyed) socket.write(dribble.charAt(sent++));
    }, intervalMs);
    const limit = setTimeout(() => finish(false), limitMs);
    socket.on("data", (d) => {
      received += d.toString("latin1");
    });
    socket.on("close", () => finish(true));
    socket.on("error", () => {});
  });
}

// --- internal ---

function parseResponse(bytes: Buffer): Omit<RawResponse, "closed"> {
  const text = bytes.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!m || end < 0) return { status: null, headers: {}, body: "" };
  // An interim answer (100 Continue) is followed by the real one.
  if (m[1]?.startsWith("1")) return parseResponse(bytes.subarray(end + 4));
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers["content-length"];
  // Only the first response: a pipelined second one must not be read as this one's body.
  const body = bytes.subarray(end + 4, length ? end + 4 + Number(length) : undefined);
  return { status: Number(m[1]), headers, body: body.toString("utf8") };
}
