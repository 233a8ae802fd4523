// The throughput benchmark's yardstick: the least a server can do to answer the same two
// requests. Plain `Bun.serve` + `bun:sqlite`, the product's schema and pragmas, the same
// lookup by port and the same insert in a BEGIN IMMEDIATE transaction — and nothing else (no
// router, no validation library, no guards, no system probe). Whatever the product spends on
// top of this is what the ratio shows.
//
//   bun bench/reference-server.ts --port 0 --db PATH [--range LO-HI]
import { Database } from "bun:sqlite";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    port: { type: "string", default: "0" },
    db: { type: "string" },
    range: { type: "string", default: "3000-32767" },
  },
  strict: true,
});
if (!values.db) throw new Error("--db is required");
const [lo, hi] = values.range.split("-").map(Number) as [number, number];

const db = new Database(values.db, { create: true, strict: true });
db.run("PRAGMA busy_timeout = 5000");
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA synchronous = FULL");
db.run(`CREATE TABLE IF NOT EXISTS allocations (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  app        TEXT    NOT NULL,
  instance   TEXT    NOT NULL,
  service    TEXT    NOT NULL,
  port       INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  created_at TEXT    NOT NULL,
  UNIQUE (port),
  UNIQUE (app, instance, service)
)`);

interface Row {
  id: number;
  app: string;
  instance: string;
  service: string;
  port: number;
  created_at: string;
}
const COLUMNS = "id, app, instance, service, port, created_at";
const byPort = db.query<Row, [number]>(`SELECT ${COLUMNS} FROM allocations WHERE port = ?`);
const byService = db.query<Row, [string, string, string]>(
  `SELECT ${COLUMNS} FROM allocations WHERE app = ? AND instance = ? AND service = ?`,
);
const insert = db.query<Row, [string, string, string, number, string]>(
  `INSERT INTO allocations (app, instance, service, port, created_at) VALUES (?, ?, ?, ?, ?)
   RETURNING ${COLUMNS}`,
);

// The same idea as the product's port map: which ports are taken, kept in memory.
const taken = new Uint8Array(65536);
for (const { port } of db.query<{ port: number }, []>("SELECT port FROM allocations").all()) {
  taken[port] = 1;
}

const release = db.transaction((app: string) => {
  const rows = db
    .query<{ port: number }, [string]>("DELETE FROM allocations WHERE app = ? RETURNING port")
    .all(app);
  for (const { port } of rows) taken[port] = 0;
  return rows.length;
});

const allocate = db.transaction((app: string, instance: string, service: string) => {
  const existing = byService.get(app, instance, service);
  if (existing) return { conflict: existing };
  let port = lo;
  while (port <= hi && taken[port]) port++;
  if (port > hi) return { exhausted: true };
  const createdAt = `${new Date().toISOString().slice(0, 19)}Z`;
  const row = insert.get(app, instance, service, port, createdAt);
  if (row) taken[row.port] = 1;
  return { row };
});

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path.startsWith("/v1/ports/")) {
      const port = Number(path.slice("/v1/ports/".length));
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        return Response.json({ error: "invalid port" }, { status: 400 });
      }
      const holder = byPort.get(port);
      return Response.json(holder ? { port, available: false, holder } : { port, available: true });
    }
    if (req.method === "POST" && path === "/v1/allocations") {
      let body: Record<string, unknown>;
      try {
        body = (await req.json()) as Record<string, unknown>;
      } catch {
        return Response.json({ error: "invalid JSON" }, { status: 400 });
      }
      const { app, instance, service } = body;
      if (typeof app !== "string" || typeof instance !== "string" || typeof service !== "string") {
        return Response.json({ error: "app, instance and service are required" }, { status: 400 });
      }
      const result = allocate.immediate(app.trim(), instance.trim(), service.trim());
      if (result.row) return Response.json(result.row, { status: 201 });
      if (result.conflict) {
        return Response.json(
          { error: "service already allocated", holder: result.conflict },
          { status: 409 },
        );
      }
      return Response.json({ error: "no free port" }, { status: 503 });
    }
    if (req.method === "DELETE" && path === "/v1/allocations") {
      // Between the benchmark's POST windows, so that a fast server never runs out of ports.
      const { app } = (await req.json()) as { app?: unknown };
      if (typeof app !== "string") return Response.json({ error: "app required" }, { status: 400 });
      return Response.json({ deleted: release.immediate(app) });
    }
    if (path === "/healthz") return Response.json({ status: "ok", pid: process.pid });
    return Response.json({ error: "not found" }, { status: 404 });
  },
});

console.log(`reference-server ${process.pid} listening on http://127.0.0.1:${server.port}`);

const shutdown = async () => {
  await server.stop(false);
  db.close(false);
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
