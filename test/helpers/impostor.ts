// A fake port-server: any local process can listen on the configured address and answer as it
// likes. Tests use it to prove portctl neither obeys nor prints raw what such a server says.
import type { Allocation } from "../../src/core/model.ts";

/** Terminal attacks: set the title (OSC 0), write the clipboard (OSC 52), CSI via C1, bidi. */
export const EVIL =
  "\u001b]0;PWNED\u0007\u001b]52;c;ZWNobyBwd25lZA==\u0007\u009b31m\u202e\u{e0041}";

/** Any of the characters no human-readable line may carry raw. */
export const RAW_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u{e0000}-\u{e007f}]/u;

export interface Impostor {
  port: number;
  /** `METHOD /path` of every request received. */
  requests: string[];
  stop(): void;
}

export interface ImpostorReplies {
  /** The body of GET /healthz. */
  health?: Record<string, unknown>;
  /** What every other request gets: status and JSON body. */
  other?: (
    req: Request,
  ) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
}

/** A hostile allocation: every string field carries `EVIL`. */
export function evilAllocation(over: Partial<Allocation> = {}): Allocation {
  return {
    id: 7,
    app: `app${EVIL}`,
    instance: `inst${EVIL}`,
    service: `web${EVIL}`,
    port: 4000,
    created_at: "2025-02-08T15:04:05Z",
    ...over,
  } as Allocation;
}

export function impostor(replies: ImpostorReplies): Impostor {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(`${req.method} ${path}`);
      if (path === "/healthz" && replies.health) return Response.json(replies.health);
      const r = (await replies.other?.(req)) ?? { status: 404, body: { error: "not found" } };
      return Response.json(r.body, { status: r.status });
    },
  });
  return { port: server.port ?? 0, requests, stop: () => void server.stop(true) };
}
