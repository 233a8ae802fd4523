// One error type with a closed set of codes. Each code has an HTTP status (HTTP_STATUS, here, so
// that the server answers with it and the client reads a status back through the same table)
// and a CLI line and exit code (cli/errors.ts); both tables are typed `Record<ErrorCode, …>`,
// so a new code cannot be added without deciding both.
import type { Allocation } from "./model.ts";

export const ERROR_CODES = [
  "bad_request",
  "forbidden",
  "not_yours",
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "port_allocated",
  "service_allocated",
  "name_taken",
  "env_key_taken",
  "port_in_use",
  "range_exhausted",
  "other_checkout",
  "import_conflict",
  "project_taken",
  "storage",
  "filesystem",
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

  /** What to do about it, for a person: portctl adds it after its line; never in a JSON body. */
  hint?: string;
  /** The line a person reads instead of the message (the CLI's words); never in a JSON body. */
  human?: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

export const HTTP_STATUS = {
  bad_request: 400,
  forbidden: 403,
  // Another user's allocation (#28): refused, nothing changed; the body names the owner.
  not_yours: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  port_allocated: 409,
  service_allocated: 409,
  name_taken: 409,
  env_key_taken: 409,
  port_in_use: 409,
  range_exhausted: 409,
  other_checkout: 409,
  import_conflict: 409,
  project_taken: 409,
  // Every failure of the database, on reads, writes and /healthz alike.
  storage: 503,
  // Raised by portctl only (a file it cannot read or write; the server is down, or not ours);
  // never sent by the API.
  filesystem: 500,
  unreachable: 502,
  daemon: 500,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** The codes the API itself answers with: every code but those only portctl raises. */
export const API_CODES: readonly ErrorCode[] = apiCodes();

/**
 * The code of an error answer that carries none (a proxy, an old daemon): the API code with that
 * status (the first, for 409), else `bad_request` for a 4xx and `internal` for anything else.
 */
export function codeForStatus(status: number): ErrorCode {
  const code = API_CODES.find((c) => HTTP_STATUS[c] === status);
  return code ?? (status >= 400 && status < 500 ? "bad_request" : "internal");
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

/**
 * A failed file-system call as one `filesystem` error: `cannot write /x/.env: permission denied`.
 * The one errno → text table of the code base, so every command words a failure the same way.
 */
export function fileError(action: string, path: string, err: unknown): PortError {
  const why = fileReason(err, action !== "read");
  return new PortError("filesystem", `cannot ${action} ${path}: ${why}`, undefined, { path });
}

/**
 * "permission denied", "read-only file system", … or the system's own first line. A missing
 * path is "no such file" when reading and "no such folder" when writing (the file's folder).
 */
export function fileReason(err: unknown, writing = false): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return writing ? "no such folder" : "no such file";
  const known = e?.code ? ERRNO_TEXT[e.code] : undefined;
  if (known) return known;
  const message = err instanceof Error ? err.message : String(err);
  return (message.split("\n")[0] ?? "").replace(/^E[A-Z]+: /, "") || "unknown error";
}

// --- internal ---

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  ENOTDIR: "a parent folder is a file",
  EISDIR: "it is a folder",
  EEXIST: "a file is in the way",
  // O_NOFOLLOW on a symlink, as well as a loop of them.
  ELOOP: "a symbolic link is in the way (not followed)",
  ENAMETOOLONG: "the name is too long",
};

/** A loop, not filter(): this module loads on every portctl start (see cli/parse.ts). */
function apiCodes(): ErrorCode[] {
  const codes: ErrorCode[] = [];
  for (const c of ERROR_CODES) {
    if (c !== "unreachable" && c !== "daemon" && c !== "filesystem") codes.push(c);
  }
  return codes;
}
