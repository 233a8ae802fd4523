// 10. What attributing a request to its user costs (#28: ≤ 10% of GET/POST throughput): the
// daemon from source, as `bun src/server/main.ts` runs it, against the same daemon with no
// kernel reader (bench/lib/unattributed-server.ts: every request the daemon's own user, no
// sock_diag lookup, no per-connection check). Everything else is the same code, so the
// difference is the attribution alone. 32 keep-alive connections; ABBA windows per kind, so
// the noise of a shared machine hits both alike; medians over every window. The figure a
// loaded 2-core machine moves least is the server's CPU time per request; throughput is given
// too (the load generator shares the cores).
import { join } from "node:path";
import { allocateInit, type LoadSpec, releaseLoad, runLoad } from "./lib/load.ts";
import { cpuSeconds, freePort, ROOT, type Server, spawnServer, tempDir } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median } from "./lib/stats.ts";

export const attribution: Benchmark = {
  name: "attribution",
  title: "attributing requests to their user (kernel) vs not at all",
  async run(opts: Options): Promise<Row[]> {
    const rounds = opts.quick ? 1 : 3;
    const pairs = opts.quick ? 1 : 2;
    opts.log(
      `  client: ${opts.client}, ${CONNECTIONS} connections; ${rounds} rounds × ${pairs * 2} windows of ${WINDOW_S} s per side and kind`,
    );
    const w: Record<Side, Record<Kind, Window[]>> = { with: empty(), without: empty() };
    const free = freePort();
    for (let round = 0; round < rounds; round++) {
      const servers = { with: await daemon("with"), without: await daemon("without") };
      try {
        const specs = {
          with: await specsFor(servers.with, `r${round}`, free, opts),
          without: await specsFor(servers.without, `r${round}`, free, opts),
        };
        for (const kind of KINDS) {
          for (const side of SIDES) {
            await runLoad({ ...specs[side][kind], seconds: 1 }); // warm-up
            if (kind === "allocate") await releaseLoad(servers[side].url);
          }
          for (let i = 0; i < pairs * 2; i++) {
            const order: Side[] = i % 2 === 0 ? ["without", "with"] : ["with", "without"];
            for (const side of order) {
              w[side][kind].push(await window(servers[side], specs[side][kind]));
              if (kind === "allocate") await releaseLoad(servers[side].url);
            }
          }
        }
        const last = (side: Side, kind: Kind) =>
          median(w[side][kind].slice(-pairs * 2).map((x) => x.cpuUs)).toFixed(1);
        opts.log(
          `  round ${round + 1}: CPU µs/request with vs without: ${KINDS.map((k) => `${LABELS[k]} ${last("with", k)} vs ${last("without", k)}`).join("; ")}`,
        );
      } finally {
        await Promise.all([servers.with.stop(), servers.without.stop()]);
      }
    }
    const rows: Row[] = [];
    for (const kind of KINDS) {
      const rps = (side: Side) => median(w[side][kind].map((x) => x.rps));
      const cpu = (side: Side) => median(w[side][kind].map((x) => x.cpuUs));
      rows.push({
        benchmark: "attribution",
        figure: `${LABELS[kind]}: throughput attributed`,
        value: rps("with"),
        unit: "req/s",
        reference: { label: "unattributed", value: rps("without") },
        target: { on: "ratio", op: ">=", limit: 0.9 },
      });
      rows.push({
        benchmark: "attribution",
        figure: `${LABELS[kind]}: server CPU per request attributed`,
        value: cpu("with"),
        unit: "µs",
        reference: { label: "unattributed", value: cpu("without") },
        target: { on: "ratio", op: "<=", limit: 1.1 },
      });
    }
    return rows;
  },
};

// --- internal ---

type Side = "with" | "without";
type Kind = "free" | "allocated" | "allocate";
interface Window {
  rps: number;
  cpuUs: number;
}

const SIDES: Side[] = ["without", "with"];
const KINDS: Kind[] = ["allocated", "free", "allocate"];
const LABELS: Record<Kind, string> = {
  allocated: "GET allocated",
  free: "GET free",
  allocate: "POST",
};
const CONNECTIONS = 32;
const WINDOW_S = 2;
const RANGE = "1024-65535";
const ENTRY: Record<Side, string> = {
  with: join(ROOT, "src", "server", "main.ts"),
  without: join(ROOT, "bench", "lib", "unattributed-server.ts"),
};

function empty(): Record<Kind, Window[]> {
  return { free: [], allocated: [], allocate: [] };
}

function daemon(side: Side): Promise<Server> {
  const dir = tempDir(`attribution-${side}`);
  const db = join(dir, "ports.db");
  const args = ["--port", "0", "--db", db, "--pidfile", join(dir, "port-server.pid")];
  args.push("--range", RANGE, "--no-socket");
  return spawnServer(
    `daemon ${side} attribution`,
    [process.execPath, ENTRY[side], ...args],
    dir,
    db,
  );
}

async function specsFor(
  server: Server,
  tag: string,
  free: number,
  opts: Options,
): Promise<Record<Kind, LoadSpec>> {
  const res = await fetch(`${server.url}/v1/allocations`, allocateInit(tag, 999, 0, "bench"));
  if (res.status !== 201) throw new Error(`${server.name}: seed POST gave ${res.status}`);
  const allocated = ((await res.json()) as { port: number }).port;
  const base = { base: server.url, connections: CONNECTIONS, client: opts.client, tag };
  return {
    free: { ...base, kind: "get", port: free, seconds: WINDOW_S },
    allocated: { ...base, kind: "get", port: allocated, seconds: WINDOW_S },
    allocate: { ...base, kind: "allocate", seconds: WINDOW_S },
  };
}

let windowNo = 0;

async function window(server: Server, spec: LoadSpec): Promise<Window> {
  const before = cpuSeconds(server.pid);
  const r = await runLoad({ ...spec, tag: `${spec.tag}a${windowNo++}` });
  const cpu = cpuSeconds(server.pid) - before;
  if (r.errors > (r.ok + r.errors) / 1000) {
    throw new Error(
      `${server.name} ${spec.kind}: ${r.errors} failed requests of ${r.ok + r.errors}`,
    );
  }
  return { rps: r.rps, cpuUs: r.ok > 0 ? (cpu * 1e6) / r.ok : Number.NaN };
}
