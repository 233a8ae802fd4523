// Error code → HTTP status: the one table lives in core/errors.ts, beside the codes, so that
// portctl reads a status back through the same table; the server's modules import it from here.
export { API_CODES, HTTP_STATUS } from "../core/errors.ts";
