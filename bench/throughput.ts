// 2. API throughput under 32 concurrent connections: GET /v1/ports/N and auto-assign
// POST /v1/allocations, port-server against the bare reference server. Each round starts both
// servers afresh (an empty database, so POST rounds are alike), in alternating order; the
// figures are medians over rounds.
import { allocateInit, type LoadKind, runLoad } from "./lib/load.ts";
import { type Server, startDaemon, startReference } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median } from "./lib/stats.ts";

export const throughput: Benchmark = {
  name: "throughput",
  title: "API throughput (32 connections) vs bare Bun.serve + bun:sqlite",
  async run(opts: Options): Promise<Row[]> {
    const rounds = opts.quick ? 2 : 5;
    const seconds = opts.quick ? 1 : 3;
    opts.log(
      `  client: ${opts.client}, ${CONNECTIONS} connections, ${rounds} rounds of ${seconds} s`,
    );
    const rps: Record<Side, Record<LoadKind, number[]>> = {
      ours: { get: [], allocate: [] },
      reference: { get: [], allocate: [] },
    };
    for (let round = 0; round < rounds; round++) {
      const sides: Side[] = round % 2 === 0 ? ["reference", "ours"] : ["ours", "reference"];
      for (const side of sides) {
        const server = await (side === "ours" ? startDaemon : startReference)({ range: RANGE });
        try {
          const figures = await measure(server, `r${round}`, seconds, opts);
          rps[side].get.push(figures.get);
          rps[side].allocate.push(figures.allocate);
          opts.log(
            `  round ${round + 1} ${side.padEnd(9)}  GET ${figures.get.toFixed(0).padStart(6)} req/s   POST ${figures.allocate.toFixed(0).padStart(6)} req/s`,
          );
        } finally {
          await server.stop();
        }
      }
    }
    const row = (kind: LoadKind, figure: string): Row => ({
      benchmark: "throughput",
      figure,
      value: median(rps.ours[kind]),
      unit: "req/s",
      reference: { label: "bare", value: median(rps.reference[kind]) },
      target: { on: "ratio", op: ">=", limit: 0.7 },
    });
    return [row("get", "GET /v1/ports/N"), row("allocate", "POST /v1/allocations")];
  },
};

// --- internal ---

type Side = "ours" | "reference";
const CONNECTIONS = 32;
/** Wide enough that no POST round can run out of ports, whatever the disk's fsync speed. */
const RANGE = "1024-65535";

async function measure(
  server: Server,
  tag: string,
  seconds: number,
  opts: Options,
): Promise<Record<LoadKind, number>> {
  // One allocation, so GET finds a holder: the same lookup and a non-trivial answer on both.
  const res = await fetch(`${server.url}/v1/allocations`, allocateInit(tag, 999, 0));
  if (res.status !== 201) throw new Error(`${server.name}: seed POST gave ${res.status}`);
  const port = ((await res.json()) as { port: number }).port;
  const base = { base: server.url, port, connections: CONNECTIONS, client: opts.client };
  const out = {} as Record<LoadKind, number>;
  for (const kind of ["get", "allocate"] as const) {
    await runLoad({ ...base, kind, tag: `${tag}w`, seconds: 1 }); // warm-up
    const r = await runLoad({ ...base, kind, tag: `${tag}m`, seconds });
    // A stray socket error as wrk stops is noise; more than that means the figure is wrong.
    if (r.errors > (r.ok + r.errors) / 1000) {
      throw new Error(`${server.name} ${kind}: ${r.errors} failed requests of ${r.ok + r.errors}`);
    }
    if (r.errors > 0) opts.log(`  (${server.name} ${kind}: ${r.errors} failed requests ignored)`);
    out[kind] = r.rps;
  }
  return out;
}
