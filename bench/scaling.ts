// 3. Scaling: sequential auto-assign latency against a daemon holding 20,000 allocations vs an
// empty one. Both daemons run at once and take turns, so noise hits both alike. The 20,000
// rows are written straight into the file (through the product's own Store, so the schema is
// exactly the product's) before the daemon starts: seconds instead of minutes of POSTs. Half of
// them are in the app/instance the new allocations go to, so work that grows with an app's
// rows (checking a new name against its services) shows here too.
import { join } from "node:path";
import { Store } from "../src/core/store.ts";
import { startDaemon, tempDir } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";

export const PREFILL = 20_000;
/** The instance that holds half of the prefilled rows, and gets the new allocations. */
const BIG = "big";

export const scaling: Benchmark = {
  name: "scaling",
  title: `Scaling: auto-assign with ${PREFILL.toLocaleString("en")} allocations vs none`,
  async run(opts: Options): Promise<Row[]> {
    const emptyDir = tempDir("empty");
    const fullDir = tempDir("full");
    new Store(join(emptyDir, "ports.db")).close();
    const started = performance.now();
    prefill(join(fullDir, "ports.db"), PREFILL);
    opts.log(`  prefilled ${PREFILL} rows in ${(performance.now() - started).toFixed(0)} ms`);

    const empty = await startDaemon({ dir: emptyDir });
    const full = await startDaemon({ dir: fullDir });
    try {
      const count = opts.quick ? 50 : 200;
      const times = { empty: [] as number[], full: [] as number[] };
      let lastFullPort = 0;
      for (let i = -10; i < count; i++) {
        // Alternate which daemon goes first; the first ten rounds are warm-up.
        const pair = i % 2 === 0 ? (["empty", "full"] as const) : (["full", "empty"] as const);
        for (const which of pair) {
          const url = (which === "empty" ? empty : full).url;
          const t0 = performance.now();
          const res = await fetch(`${url}/v1/allocations`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ app: "prefill", instance: BIG, service: `seq${i + 10}` }),
          });
          const body = (await res.json()) as { port: number };
          const elapsed = performance.now() - t0;
          if (res.status !== 201) throw new Error(`${which}: POST gave ${res.status}`);
          if (which === "full") lastFullPort = body.port;
          if (i >= 0) times[which].push(elapsed);
        }
      }
      // The prefilled ports are 3000…22999: a port below that would mean the rows were not seen.
      if (lastFullPort < 3000 + PREFILL) {
        throw new Error(`the prefilled daemon handed out ${lastFullPort}: prefill not seen`);
      }
      opts.log(`  empty database:        ${spread(times.empty, "ms", 2)}`);
      opts.log(`  ${PREFILL} allocations:   ${spread(times.full, "ms", 2)}`);
      return [
        {
          benchmark: "scaling",
          figure: `POST with ${PREFILL / 1000}k rows`,
          value: median(times.full),
          unit: "ms",
          reference: { label: "empty", value: median(times.empty) },
          target: { on: "ratio", op: "<=", limit: 1.5 },
        },
      ];
    } finally {
      await Promise.all([empty.stop(), full.stop()]);
    }
  },
};

/** `count` allocations on ports 3000…, in one transaction, through the product's Store. */
export function prefill(path: string, count: number): void {
  const store = new Store(path);
  try {
    const created_at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    store.write(() => {
      for (let i = 0; i < count; i++) {
        const instance = i < count / 2 ? BIG : `i${Math.floor(i / 100)}`;
        store.insert({ app: "prefill", instance, service: `s${i}`, port: 3000 + i, created_at });
      }
    });
  } finally {
    store.close();
  }
}
