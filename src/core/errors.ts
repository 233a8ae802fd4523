// One error type with a closed set of codes. The server maps a code to an HTTP status and the
// CLI maps it to an exit code, each in one table typed `Record<ErrorCode, …>`, so a new code
// cannot be added without deciding both.
import type { Allocation } from "./model.ts";

export const ERROR_CODES = [
  "bad_request",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "port_allocated",
  "service_allocated",
  "port_in_use",
  "range_exhausted",
  "other_checkout",
  "import_conflict",
  "storage",
  "unreachable",
  "daemon",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class PortError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly holder?: Allocation,
    /** Extra fields for the JSON error body, e.g. `system` for a port bound on the machine. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "PortError";
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** The JSON body of an error, as the API sends it and `portctl --json` prints it. */
export function errorBody(e: PortError): Record<string, unknown> {
  return {
    error: e.message,
    code: e.code,
    ...(e.holder ? { holder: e.holder } : {}),
    ...e.details,
  };
}
