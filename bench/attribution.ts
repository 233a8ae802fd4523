// 10. What attributing a request to its user costs (#28: ≤ 10% of GET/POST throughput): the
// daemon from source, as `bun src/server/main.ts` runs it, against the same daemon with no
// kernel reader (bench/lib/unattributed-server.ts: every request the daemon's own user, no
// sock_diag lookup, no per-connection check). Everything else is the same code, so the
// difference is the attribution alone. 32 keep-alive connections; ABBA windows per kind, so
// the noise of a shared machine hits both alike; medians over every window. The figure a
// loaded 2-core machine moves least is the server's CPU time per request; throughput is given
// too (the load generator shares the cores).
import { join } from "node:path";
import { abba, CONNECTIONS, type Kind, LABELS, RANGE, WINDOW_S } from "./lib/abba.ts";
import { freePort, ROOT, type Server, spawnServer, tempDir } from "./lib/procs.ts";
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
    const w = await abba<Side>(
      {
        sides: ["without", "with"],
        kinds: KINDS,
        rounds,
        pairs,
        start: async () => ({ with: await daemon("with"), without: await daemon("without") }),
        free: freePort(),
        roundDone: (round, w) => {
          const last = (side: Side, kind: Kind) =>
            median(w[side][kind].slice(-pairs * 2).map((x) => x.cpuUs)).toFixed(1);
          opts.log(
            `  round ${round + 1}: CPU µs/request with vs without: ${KINDS.map((k) => `${LABELS[k]} ${last("with", k)} vs ${last("without", k)}`).join("; ")}`,
          );
        },
      },
      opts,
    );
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

const KINDS: Kind[] = ["allocated", "free", "allocate"];
const ENTRY: Record<Side, string> = {
  with: join(ROOT, "src", "server", "main.ts"),
  without: join(ROOT, "bench", "lib", "unattributed-server.ts"),
};

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
