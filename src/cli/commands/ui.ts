// `portctl ui`: the dashboard's address, opened in the default browser (`open` on macOS,
// `xdg-open` elsewhere) unless --no-open. The daemon must be answering: the page is its own.
import { Client } from "../client.ts";
import type { Io } from "../io.ts";

export async function ui(opts: { noOpen?: boolean }, io: Io): Promise<number> {
  const client = new Client(io.env);
  await client.health();
  const url = `${client.base}/`;
  io.out(url);
  if (opts.noOpen) return 0;
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const path = Bun.which(opener, { PATH: io.env.PATH ?? "" });
  if (!path) {
    io.err(`${opener} not found: open ${url} in a browser`);
    return 0;
  }
  // Detached and unwaited: a browser that stays open must not keep portctl running.
  const child = Bun.spawn([path, url], { stdio: ["ignore", "ignore", "ignore"], env: io.env });
  child.unref();
  return 0;
}
