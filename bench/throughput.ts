// 2. API throughput under 32 concurrent connections, port-server against the bare reference
// server: GET /v1/ports/N for a free N (the common `portctl check`; port-server looks at the
// machine's listeners, the reference does not), GET for an allocated N, and auto-assign POST.
// Each round starts both servers afresh (empty databases, so POST rounds are alike) and, per
// kind, alternates short windows between them (ABBA), so that the noise of a shared machine
// hits both alike; the figures are medians over all windows. Each window also records the
// server's CPU time per request, a figure the machine's noise barely moves.
import { allocateInit, type LoadSpec, releaseLoad, runLoad } from "./lib/load.ts";
import { cpuSeconds, freePort, type Server, startDaemon, startReference } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median } from "./lib/stats.ts";

export const throughput: Benchmark = {
  name: "throughput",
  title: "API throughput (32 connections) vs bare Bun.serve + bun:sqlite",
  async run(opts: Options): Promise<Row[]> {
    const rounds = opts.quick ? 1 : 4;
    const pairs = opts.quick ? 1 : 2;
    opts.log(
      `  client: ${opts.client}, ${CONNECTIONS} connections; ${rounds} rounds × ${pairs * 2} windows of ${WINDOW_S} s per side and kind`,
    );
    const w: Windows = { ours: empty(), reference: empty() };
    // One port for the whole run, free on this machine and in both registries.
    const free = freePort();
    for (let round = 0; round < rounds; round++) {
      const servers = {
        reference: await startReference({ range: RANGE }),
        ours: await startDaemon({ range: RANGE }),
      };
      try {
        const specs = {
          reference: await specsFor(servers.reference, `r${round}`, free, opts),
          ours: await specsFor(servers.ours, `r${round}`, free, opts),
        };
        for (const kind of KINDS) {
          for (const side of SIDES) {
            await runLoad({ ...specs[side][kind], seconds: 1 }); // warm-up
            if (kind === "allocate") await releaseLoad(servers[side].url);
          }
          for (let i = 0; i < pairs * 2; i++) {
            // ABBA: reference, ours, ours, reference, …
            const order: Side[] = i % 2 === 0 ? ["reference", "ours"] : ["ours", "reference"];
            for (const side of order) {
              w[side][kind].push(await window(servers[side], specs[side][kind], opts));
              // Outside the window: a server that allocates fast must not run out of ports.
              if (kind === "allocate") await releaseLoad(servers[side].url);
            }
          }
        }
        opts.log(`  round ${round + 1}: ${KINDS.map((k) => roundText(w, k)).join("; ")}`);
      } finally {
        await Promise.all([servers.reference.stop(), servers.ours.stop()]);
      }
    }
    const row = (kind: Kind, figure: string): Row => {
      const cpu = (side: Side) => median(w[side][kind].map((x) => x.cpuUs));
      return {
        benchmark: "throughput",
        figure,
        value: median(w.ours[kind].map((x) => x.rps)),
        unit: "req/s",
        reference: { label: "bare", value: median(w.reference[kind].map((x) => x.rps)) },
        target: { on: "ratio", op: ">=", limit: 0.7 },
        notes: [
          `server CPU per request ${cpu("ours").toFixed(1)} µs vs bare ${cpu("reference").toFixed(1)} µs`,
        ],
      };
    };
    return [
      row("free", "GET /v1/ports/N, N free"),
      row("allocated", "GET /v1/ports/N, N allocated"),
      row("allocate", "POST /v1/allocations, auto-assign"),
    ];
  },
};

// --- internal ---

type Side = "ours" | "reference";
type Kind = "free" | "allocated" | "allocate";
interface Window {
  rps: number;
  /** Server CPU time (user + system) per successful request, in µs. */
  cpuUs: number;
}
type Windows = Record<Side, Record<Kind, Window[]>>;

const SIDES: Side[] = ["reference", "ours"];
const KINDS: Kind[] = ["free", "allocated", "allocate"];
const LABELS: Record<Kind, string> = {
  free: "GET free",
  allocated: "GET allocated",
  allocate: "POST",
};
const CONNECTIONS = 32;
const WINDOW_S = 2;
/** Wide enough that no POST round can run out of ports, whatever the disk's fsync speed. */
const RANGE = "1024-65535";

function empty(): Record<Kind, Window[]> {
  return { free: [], allocated: [], allocate: [] };
}

/** Seeds one allocation (so GET finds a holder) and checks that `free` is free there. */
async function specsFor(
  server: Server,
  tag: string,
  free: number,
  opts: Options,
): Promise<Record<Kind, LoadSpec>> {
  const res = await fetch(`${server.url}/v1/allocations`, allocateInit(tag, 999, 0, "bench"));
  if (res.status !== 201) throw new Error(`${server.name}: seed POST gave ${res.status}`);
  const allocated = ((await res.json()) as { port: number }).port;
  const check = (await (await fetch(`${server.url}/v1/ports/${free}`)).json()) as {
    available?: boolean;
  };
  if (check.available !== true) throw new Error(`${server.name}: port ${free} is not free`);
  const base = { base: server.url, connections: CONNECTIONS, client: opts.client, tag };
  return {
    free: { ...base, kind: "get", port: free, seconds: WINDOW_S },
    allocated: { ...base, kind: "get", port: allocated, seconds: WINDOW_S },
    allocate: { ...base, kind: "allocate", seconds: WINDOW_S },
  };
}

let windowNo = 0;

async function window(server: Server, spec: LoadSpec, opts: Options): Promise<Window> {
  const cpuBefore = cpuSeconds(server.pid);
  const r = await runLoad({ ...spec, tag: `${spec.tag}w${windowNo++}` });
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  // A stray socket error as wrk stops is noise; more than that means the figure is wrong.
  if (r.errors > (r.ok + r.errors) / 1000) {
    throw new Error(
      `${server.name} ${spec.kind}: ${r.errors} failed requests of ${r.ok + r.errors}`,
    );
  }
  if (r.errors > 0)
    opts.log(`  (${server.name} ${spec.kind}: ${r.errors} failed requests ignored)`);
  return { rps: r.rps, cpuUs: r.ok > 0 ? (cpu * 1e6) / r.ok : Number.NaN };
}

function roundText(w: Windows, kind: Kind): string {
  const last = (side: Side) => median(w[side][kind].slice(-4).map((x) => x.rps));
  return `${LABELS[kind]} ${last("ours").toFixed(0)} vs ${last("reference").toFixed(0)}`;
}
