// Every response the API sends: JSON with the security headers, errors as
// `{"error", "code", "holder"?, …details}` with the status of the code's row in status.ts.
import { errorBody, PortError } from "../core/errors.ts";
import { SECURITY_HEADERS } from "./guards.ts";
import { HTTP_STATUS } from "./status.ts";

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export function errorResponse(err: unknown): Response {
  const e = err instanceof PortError ? err : internal(err);
  return json(errorBody(e), HTTP_STATUS[e.code]);
}

// --- internal ---

// One Headers object, built once: Response copies it, so sharing it is safe.
const JSON_HEADERS = new Headers({ "Content-Type": "application/json", ...SECURITY_HEADERS });

function internal(err: unknown): PortError {
  // Never leak a stack trace to the client; the log gets the details.
  console.error("internal error:", err);
  return new PortError("internal", "internal server error");
}
