// 2. API throughput under 32 concurrent connections, port-server against the bare reference
// server: GET /v1/ports/N for a free N (the common `portctl check`; port-server looks at the
// machine's listeners, the reference does not), GET for an allocated N, and auto-assign POST.
// Each round starts both servers afresh (empty databases, so POST rounds are alike) and, per
// kind, alternates short windows between them (ABBA), so that the noise of a shared machine
// hits both alike; the figures are medians over all windows. Each window also records the
// server's CPU time per request, a figure the machine's noise barely moves.
import { abba, CONNECTIONS, type Kind, LABELS, RANGE, WINDOW_S, type Windows } from "./lib/abba.ts";
import { freePort, startDaemon, startReference } from "./lib/procs.ts";
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
    const w = await abba<Side>(
      {
        // ABBA: reference, ours, ours, reference, …
        sides: ["reference", "ours"],
        kinds: KINDS,
        rounds,
        pairs,
        start: async () => ({
          reference: await startReference({ range: RANGE }),
          ours: await startDaemon({ range: RANGE }),
        }),
        free: freePort(),
        roundDone: (round, w) =>
          opts.log(`  round ${round + 1}: ${KINDS.map((k) => roundText(w, k)).join("; ")}`),
      },
      opts,
    );
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

const KINDS: Kind[] = ["free", "allocated", "allocate"];

function roundText(w: Windows<Side>, kind: Kind): string {
  const last = (side: Side) => median(w[side][kind].slice(-4).map((x) => x.rps));
  return `${LABELS[kind]} ${last("ours").toFixed(0)} vs ${last("reference").toFixed(0)}`;
}
