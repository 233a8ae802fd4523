// Every response the API sends: JSON with the security headers, errors as
// `{"error", "code", "holder"?, …details}` with the status of the code's row in core/errors.ts.
import { SQLiteError } from "bun:sqlite";
import { asStorageError } from "../core/dbfile.ts";
import { errorBody, HTTP_STATUS, PortError } from "../core/errors.ts";
import { describeError, logEvent } from "./log.ts";

/** Headers every response carries, errors included. */
export const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Resource-Policy": "same-origin",
} as const;

export function json(body: unknown, status = 200, headers?: Record<string, string>): Response {
  const all = headers ? new Headers([...JSON_HEADERS, ...Object.entries(headers)]) : JSON_HEADERS;
  return new Response(JSON.stringify(body), { status, headers: all });
}

export function errorResponse(err: unknown, headers?: Record<string, string>): Response {
  const e = err instanceof PortError ? err : unexpected(err);
  // An oversized body is left unread: the connection cannot carry another request after it.
  const all = e.code === "payload_too_large" ? { ...headers, Connection: "close" } : headers;
  return json(errorBody(e), HTTP_STATUS[e.code], all);
}

// --- internal ---

// One Headers object, built once: Response copies it, so sharing it is safe.
const JSON_HEADERS = new Headers({ "Content-Type": "application/json", ...SECURITY_HEADERS });

function unexpected(err: unknown): PortError {
  // bun:sqlite throws SQLiteError, and plain errors on a closed database: all are storage.
  if (err instanceof SQLiteError || isClosedDatabase(err)) {
    return asStorageError(err, "database unusable");
  }
  // Never leak a stack trace to the client; the log gets the details, on one line.
  logEvent(`port-server: internal error: ${describeError(err)}`);
  return new PortError("internal", "internal server error");
}

function isClosedDatabase(err: unknown): boolean {
  return err instanceof Error && /closed database|database has closed/i.test(err.message);
}
