// Reading a request body: strict UTF-8 JSON, never more than the path's limit, even when a
// chunked body declares no size.
import { MAX_BODY_BYTES } from "../core/config.ts";
import { PortError } from "../core/errors.ts";

/**
 * Reads the body as strict UTF-8 JSON of at most `limit` bytes (64 KiB unless said). A chunked
 * body declares no size, so the limit is enforced while reading: the first byte over it ends
 * the read with a 413.
 */
export async function readJson(req: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const bytes = await readLimited(req, limit);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new PortError("bad_request", "request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PortError("bad_request", "request body is not valid JSON");
  }
}

/** The 413 for a body over `limit` bytes, declared (guards.ts) or found while reading. */
export function tooLarge(limit: number): PortError {
  return new PortError("payload_too_large", `request body is larger than ${limit / 1024} KiB`);
}

// --- internal ---

const UTF8 = new TextDecoder("utf-8", { fatal: true });

async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      // Bad chunk framing or the client gone: Bun answers the client; we only must not crash.
      throw new PortError("bad_request", "request body could not be read to its end");
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > limit) {
      // The rest is never read: the 413 closes the connection (respond.ts).
      reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks);
}
