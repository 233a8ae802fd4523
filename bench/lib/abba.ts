// The API load the throughput and attribution benchmarks share: three kinds of request (GET for
// a free port, GET for an allocated one, auto-assign POST), 32 keep-alive connections, and
// short windows alternated between two servers (ABBA), so the noise of a shared machine hits
// both alike. Each window also records the server's CPU time per request, a figure the noise
// barely moves.
import { allocateInit, type LoadSpec, releaseLoad, runLoad } from "./load.ts";
import { cpuSeconds, type Server } from "./procs.ts";
import type { Options } from "./report.ts";

export type Kind = "free" | "allocated" | "allocate";
export interface Window {
  rps: number;
  /** Server CPU time (user + system) per successful request, in µs. */
  cpuUs: number;
}
export type Windows<S extends string> = Record<S, Record<Kind, Window[]>>;

export const LABELS: Record<Kind, string> = {
  free: "GET free",
  allocated: "GET allocated",
  allocate: "POST",
};
export const CONNECTIONS = 32;
export const WINDOW_S = 2;
/** Wide enough that no POST round can run out of ports, whatever the disk's fsync speed. */
export const RANGE = "1024-65535";

export interface AbbaPlan<S extends string> {
  /** The two servers, in the order of the first window of each pair. */
  sides: [S, S];
  kinds: Kind[];
  rounds: number;
  /** Windows per side and kind per round: twice this. */
  pairs: number;
  /** Starts both servers afresh for a round (empty databases, so POST rounds are alike). */
  start: () => Promise<Record<S, Server>>;
  /** One port free on this machine and in both registries, for the whole run. */
  free: number;
  /** After each round, with every window so far. */
  roundDone: (round: number, w: Windows<S>) => void;
}

/** Every window of every round, by side and kind. */
export async function abba<S extends string>(
  plan: AbbaPlan<S>,
  opts: Options,
): Promise<Windows<S>> {
  const [a, b] = plan.sides;
  const w = { [a]: empty(), [b]: empty() } as Windows<S>;
  for (let round = 0; round < plan.rounds; round++) {
    const servers = await plan.start();
    try {
      const specs = {
        [a]: await specsFor(servers[a], `r${round}`, plan.free, opts),
        [b]: await specsFor(servers[b], `r${round}`, plan.free, opts),
      } as Record<S, Record<Kind, LoadSpec>>;
      for (const kind of plan.kinds) {
        for (const side of plan.sides) {
          await runLoad({ ...specs[side][kind], seconds: 1 }); // warm-up
          if (kind === "allocate") await releaseLoad(servers[side].url);
        }
        for (let i = 0; i < plan.pairs * 2; i++) {
          const order: S[] = i % 2 === 0 ? [a, b] : [b, a];
          for (const side of order) {
            w[side][kind].push(await window(servers[side], specs[side][kind], opts));
            // Outside the window: a server that allocates fast must not run out of ports.
            if (kind === "allocate") await releaseLoad(servers[side].url);
          }
        }
      }
      plan.roundDone(round, w);
    } finally {
      await Promise.all([servers[a].stop(), servers[b].stop()]);
    }
  }
  return w;
}

// --- internal ---

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
