// The dev server of the proxy benchmark: plain node:http, which is what Vite, Next.js and most
// dev servers run on. `/` is a small response, `/big?mb=N` streams N MB, `/upload` counts the
// body it reads and answers with the count. Prints its port, then serves until killed.
import { createServer } from "node:http";

const CHUNK = Buffer.alloc(64 * 1024, 120);

const server = createServer((req, res) => {
  if (req.url?.startsWith("/big")) {
    const mb = Number(new URL(req.url, "http://x").searchParams.get("mb") ?? 100);
    const total = mb * 1024 * 1024;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once("drain", pump);
      }
      res.end();
    };
    return pump();
  }
  if (req.url === "/upload") {
    let bytes = 0;
    req.on("data", (c) => {
      bytes += c.length;
    });
    return req.on("end", () => res.end(String(bytes)));
  }
  res.setHeader("content-type", "text/plain");
  res.end("hello from the dev server\n");
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
