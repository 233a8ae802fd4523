// Does a port answer HTTP (cli/run/http-probe.ts), asked of real local servers: an HTTP one, one
// that greets first (as MySQL and SSH do), one that answers something else (as Redis does), one
// that reads and never answers, one that takes connections and closes them until its server is
// up (Docker's proxy while the container starts), and a port nobody serves.
import { afterAll, describe, expect, test } from "bun:test";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { probeHttp } from "../../src/cli/run/http-probe.ts";
import { freePort } from "../helpers/cli.ts";

const servers: { close(): void }[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function tcp(onSocket: (s: Socket) => void): Promise<number> {
  const server: Server = createServer((s) => {
    s.on("error", () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

const soon = () => Date.now() + 3000;

describe("probeHttp", () => {
  test("an HTTP server, whatever its status (a Host check's 403 too): http", async () => {
    let host = "";
    const server = createHttpServer((req, res) => {
      host = req.headers.host ?? "";
      res.writeHead(403).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    expect(await probeHttp(port, "api.shop.localhost", soon())).toBe("http");
    expect(host).toBe("api.shop.localhost");
  });

  test("a server that speaks first is not asked anything: other", async () => {
    let heard = "";
    const port = await tcp((s) => {
      s.write("SSH-2.0-OpenSSH_9.2\r\n");
      s.on("data", (c) => {
        heard += c.toString();
      });
    });
    expect(await probeHttp(port, "x.localhost", soon())).toBe("other");
    await Bun.sleep(50);
    expect(heard).toBe("");
  });

  test("an answer that is not HTTP (a database's error): other", async () => {
    const port = await tcp((s) => s.once("data", () => s.end("-ERR unknown command 'HEAD'\r\n")));
    expect(await probeHttp(port, "x.localhost", soon())).toBe("other");
  });

  test("a server that reads and never answers: other, once the answer's time is up", async () => {
    const port = await tcp(() => undefined);
    expect(await probeHttp(port, "x.localhost", soon())).toBe("other");
  }, 10_000);

  test("connections closed unanswered until the server is up (Docker's proxy): asked again, http", async () => {
    let up = false;
    const port = await tcp((s) => {
      if (!up) return void s.destroy();
      s.once("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    });
    setTimeout(() => {
      up = true;
    }, 600);
    expect(await probeHttp(port, "x.localhost", soon())).toBe("http");
  });

  test("a port nobody serves: absent at once; awaited until the deadline when asked to, or the stop", async () => {
    const port = freePort();
    // A minute's deadline: only the refusal ends it within the test's 5 s.
    expect(await probeHttp(port, "x.localhost", Date.now() + 60_000)).toBe("absent");
    const awaitListener = true;
    expect(await probeHttp(port, "x.localhost", Date.now() + 600, { awaitListener })).toBe(
      "absent",
    );
    const stop = { stopped: false };
    setTimeout(() => {
      stop.stopped = true;
    }, 300);
    expect(await probeHttp(port, "x.localhost", Date.now() + 60_000, { stop, awaitListener })).toBe(
      "absent",
    );
  });

  test("a listener that comes later, while containers are created: awaited, http", async () => {
    const port = freePort();
    setTimeout(() => {
      const server = createHttpServer((_, res) => res.end("ok"));
      server.listen(port, "127.0.0.1");
      servers.push(server);
    }, 500);
    const awaitListener = true;
    expect(await probeHttp(port, "x.localhost", Date.now() + 4000, { awaitListener })).toBe("http");
  });

  test("taken and closed unanswered until the deadline: unanswered", async () => {
    const port = await tcp((s) => s.destroy());
    expect(await probeHttp(port, "x.localhost", Date.now() + 800)).toBe("unanswered");
  });
});
