// Does a port a Compose service publishes answer HTTP? `run -- docker compose up` cannot tell an
// API from a database by looking, so it asks once, the way the names proxy would: a connection
// to the port on loopback and, if the server does not speak first (MySQL, SSH and SMTP greet),
// one `HEAD /` with the service's name as Host. Only an answer that starts with `HTTP/` counts;
// anything else, silence, or a port that never takes the connection is "not HTTP". Ports of
// well-known databases, brokers and caches are never asked at all: a database never gets an
// http:// URL, and Redis logs an HTTP request as an attack.
import { connect, type Socket } from "node:net";

/**
 * HTTP; something else; taken but never answered before the deadline (its server is still
 * starting, or silent); nothing listens there at all.
 */
export type Probe = "http" | "other" | "unanswered" | "absent";

/** Container ports of servers that are not HTTP: never probed. */
export const NOT_HTTP_PORTS: ReadonlySet<number> = new Set([
  22, 25, 389, 587, 1025, 1433, 1521, 1883, 2181, 3306, 4222, 5432, 5433, 5672, 6379, 6380, 6432,
  7000, 7001, 7687, 9042, 9092, 11211, 26257, 27017, 28015, 33060,
]);

/** How long a server may take to greet before the request is sent (servers that speak first). */
const GREETING_MS = 200;
/** How long an answer to the request may take once sent. */
const ANSWER_MS = 3000;
/** Between two connections while the port is not yet served (the container's app is starting). */
const RETRY_MS = 250;

/**
 * Asks `port` on 127.0.0.1 until `deadline` (a Date.now() time) while it takes the connection
 * and closes it unanswered (Docker's proxy does that while the container's server is not up
 * yet) and, with `awaitListener` (containers still being created), while nothing listens; else a
 * refused connection is "absent" at once. `stop` ends the asking early.
 */
export async function probeHttp(
  port: number,
  host: string,
  deadline: number,
  opts: { stop?: { stopped: boolean }; awaitListener?: boolean } = {},
): Promise<Probe> {
  let taken = false;
  while (!opts.stop?.stopped) {
    const r = await once(port, host);
    if (r === "http" || r === "other") return r;
    if (r === "closed") taken = true;
    else if (!taken && !opts.awaitListener) return "absent";
    if (Date.now() + RETRY_MS > deadline) break;
    await Bun.sleep(RETRY_MS);
  }
  return taken ? "unanswered" : "absent";
}

// --- internal ---

/** One connection: refused, or closed before the request went, or the answer's kind. */
function once(port: number, host: string): Promise<"http" | "other" | "refused" | "closed"> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: "127.0.0.1", port });
    let got = Buffer.alloc(0);
    let sent = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let connected = false;
    const done = (r: "http" | "other" | "refused" | "closed") => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    // Refused, or cut before the request went: nobody serves it yet. Cut after it: not HTTP.
    socket.on("error", () => done(sent ? "other" : connected ? "closed" : "refused"));
    socket.on("connect", () => {
      connected = true;
      timer = setTimeout(() => {
        sent = true;
        socket.write(
          `HEAD / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: portctl\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
        );
        timer = setTimeout(() => done("other"), ANSWER_MS);
      }, GREETING_MS);
    });
    socket.on("data", (chunk: Buffer) => {
      // A greeting before the request: a server that speaks first is no HTTP server.
      if (!sent) return done("other");
      got = Buffer.concat([got, chunk]);
      if (got.length >= 5)
        done(got.subarray(0, 5).toString("latin1") === "HTTP/" ? "http" : "other");
    });
    // Closed before the request went: Docker's proxy while the container's server is not up.
    socket.on("end", () => done(sent ? "other" : "closed"));
  });
}
