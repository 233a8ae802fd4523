// Error code → HTTP status, in one table. `satisfies` makes a new code fail to compile here
// until someone decides its status.
import { ERROR_CODES, type ErrorCode } from "../core/errors.ts";

export const HTTP_STATUS = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  port_allocated: 409,
  service_allocated: 409,
  port_in_use: 409,
  range_exhausted: 409,
  other_checkout: 409,
  import_conflict: 409,
  // Every failure of the database, on reads, writes and /healthz alike.
  storage: 503,
  // Raised by portctl only (the server is down, or not ours); never sent by the API.
  unreachable: 502,
  daemon: 500,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** The codes the API itself answers with: every code but those only portctl raises. */
export const API_CODES: readonly ErrorCode[] = ERROR_CODES.filter(
  (c) => c !== "unreachable" && c !== "daemon",
);
