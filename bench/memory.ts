// 4. Memory: the daemon's resident set idle after start, and after 20,000 allocations made
// through the API (32 concurrent loops, to be quick). The bare reference server goes through
// the same steps, for scale: most of an idle Bun process is the runtime itself.
import { allocateMany } from "./lib/load.ts";
import { memory, type Server, startDaemon, startReference } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";

export const memoryBench: Benchmark = {
  name: "memory",
  title: "Memory: daemon RSS idle and after 20,000 allocations",
  async run(opts: Options): Promise<Row[]> {
    const count = opts.quick ? 5_000 : 20_000;
    const ours = await profile(await startDaemon(), count, opts);
    const ref = await profile(await startReference(), count, opts);
    const label = `after ${count / 1000}k allocations`;
    return [
      {
        benchmark: "memory",
        figure: "RSS idle",
        value: ours.idle,
        unit: "MB",
        reference: { label: "bare", value: ref.idle },
        target: { on: "value", op: "<=", limit: 60 },
      },
      {
        benchmark: "memory",
        figure: `RSS ${label}`,
        value: ours.after,
        unit: "MB",
        reference: { label: "bare", value: ref.after },
        target: { on: "value", op: "<=", limit: 100 },
        notes: [`peak (VmHWM) ${ours.peak.toFixed(1)} MB`],
      },
    ];
  },
};

// --- internal ---

/** MB here are 10^6 bytes: the stricter reading of the targets. */
const MB = 1e6;
const SETTLE_MS = 1000;

async function profile(
  server: Server,
  count: number,
  opts: Options,
): Promise<{ idle: number; after: number; peak: number }> {
  try {
    const health = await fetch(`${server.url}/healthz`);
    if (!health.ok) throw new Error(`${server.name}: /healthz gave ${health.status}`);
    await Bun.sleep(SETTLE_MS);
    const idle = memory(server.pid).rss / MB;
    const load = await allocateMany(server.url, count, 32, "mem");
    if (load.errors > 0) throw new Error(`${server.name}: ${load.errors} allocations failed`);
    await Bun.sleep(SETTLE_MS);
    const m = memory(server.pid);
    const after = m.rss / MB;
    const peak = (m.peak ?? m.rss) / MB;
    opts.log(
      `  ${server.name.padEnd(11)} idle ${idle.toFixed(1)} MB, after ${count} allocations ${after.toFixed(1)} MB (peak ${peak.toFixed(1)} MB; ${load.rps.toFixed(0)} allocations/s)`,
    );
    return { idle, after, peak };
  } finally {
    await server.stop();
  }
}
