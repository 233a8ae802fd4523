// A port whose only socket is in TIME_WAIT: what any HTTP client leaves behind on its side of a
// connection it closed. curl (which binds its local port without SO_REUSEADDR, like most
// clients) fetches from a throwaway server from a chosen local port and exits; that port then
// refuses a bind for a minute, yet nothing listens on it. Linux only (it reads /proc/net/tcp).
import { readFileSync } from "node:fs";

/** Returns such a port, having checked both halves: TIME_WAIT is there, and a bind fails. */
export async function timeWait(): Promise<number> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = unusedPort();
      const curl = Bun.spawn(
        ["curl", "-sS", "--local-port", String(port), `http://127.0.0.1:${server.port}/`],
        { stdout: "pipe", stderr: "pipe" },
      );
      if ((await curl.exited) !== 0) continue; // the port was taken meanwhile: another one
      if (inTimeWait(port) && !bindable(port)) return port;
    }
  } finally {
    server.stop(true);
  }
  throw new Error("could not leave a port in TIME_WAIT with curl");
}

// --- internal ---

/** A port nothing uses right now: the kernel's pick for a listener, closed again. */
function unusedPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

const TIME_WAIT = "06";

function inTimeWait(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return ["/proc/net/tcp", "/proc/net/tcp6"].some((file) =>
    readFileSync(file, "latin1")
      .split("\n")
      .some((line) => {
        const cols = line.trim().split(/\s+/);
        return cols[1]?.endsWith(hex) && cols[3] === TIME_WAIT;
      }),
  );
}

function bindable(port: number): boolean {
  try {
    Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}
