// The OpenAPI 3.1 description of the API, generated from the same zod schemas the routes
// validate with and from the one code → status table, so the document cannot drift from what
// the server accepts and answers.
import { DEFAULT_HOST } from "../core/config.ts";
import { API_CODES } from "../core/errors.ts";
import { allocationSchema, eventSchema } from "../core/model.ts";
import { errorComponent, errorName, ref, refTo, schema } from "./openapi-parts.ts";
import { PATHS } from "./openapi-paths.ts";

export function openApiDocument(version: string, port: number): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "port-server", version, description: DESCRIPTION },
    servers: [{ url: `http://${DEFAULT_HOST}:${port}`, description: "this daemon" }],
    // No authentication: the daemon listens on 127.0.0.1 only, and the Host, Origin and
    // Sec-Fetch-Site guards (403) are what keeps web pages out.
    security: [],
    components: {
      schemas: {
        Allocation: schema(allocationSchema, "output"),
        Event: schema(eventSchema, "output"),
        ...Object.fromEntries(API_CODES.map((c) => [errorName(c), errorComponent(c)])),
        Error: {
          description: "Any error of the API: `code` tells which, and which fields come with it",
          oneOf: API_CODES.map((c) => ref(errorName(c))),
          discriminator: {
            propertyName: "code",
            mapping: Object.fromEntries(API_CODES.map((c) => [c, refTo(errorName(c))])),
          },
        },
      },
    },
    paths: PATHS,
  };
}

// --- internal ---

const DESCRIPTION = [
  "A local port registry: which host port belongs to which app/instance/service.",
  "",
  "There is no authentication (`security: []`): the daemon listens on 127.0.0.1 only, and",
  "every request must carry a Host of `127.0.0.1:<port>`, `localhost:<port>` or `[::1]:<port>`;",
  "writes from a browser must be same-origin by `Sec-Fetch-Site` or, without it, by `Origin`.",
  "Those guards answer 403 on every operation. Bodies must be `application/json` (415) of at",
  "most 64 KiB (413). Every response carries `X-Content-Type-Options: nosniff` and",
  "`Cross-Origin-Resource-Policy: same-origin`. HEAD is answered wherever GET is; another",
  "method on a known path is 405 with `Allow`; an unknown path is 404. Both are `Error`s.",
  "Query parameters other than those declared are refused (400) where an operation has any.",
  "Any failure of the database is `storage` (503), on reads, writes and `/healthz` alike.",
  "",
  "Not ours: Bun's HTTP parser refuses some requests before any handler runs, with a bare",
  "status line (no body, none of the headers above), and closes the connection (measured by",
  "the test suite): 400 for HTTP/1.1 without Host, a malformed request line (two spaces, a",
  "method with other characters, a target not starting with `/`, an empty line), a malformed",
  "header line (no colon, a space before it, a bare CR or NUL, obs-fold), conflicting framing",
  "(Content-Length with Transfer-Encoding, two Content-Lengths, a Transfer-Encoding other than",
  "one `chunked`, a Content-Length that is not a number or is 10^18 or more, a chunk size that",
  "is not hex) and bytes that are not HTTP/1 (TLS, the HTTP/2 preface); 505 for an HTTP version",
  "other than 1.0/1.1, no version, a space inside the target, or LF-only line ends; 413 for a",
  "Content-Length above 2^53 - 1; 431 for a request line or headers over about 16 KiB; and no",
  "answer at all for a method that is not an upper-case HTTP method (`get`, `FOO`).",
].join("\n");
