// 3. `portctl list --all` with 250 allocations: the table (with its LISTENING column, one look
// at the machine's listeners per call) against `--json` (the API's answer printed as it came),
// interleaved; the gap is formatting plus that one look.
import { allocateMany } from "./lib/load.ts";
import { cleanEnv, PORTCTL, startDaemon, timeRun } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";
import { interleaved } from "./lib/timing.ts";

const ROWS = 250;

export const listBench: Benchmark = {
  name: "list",
  title: `portctl list --all, ${ROWS} rows: table vs --json`,
  async run(opts: Options): Promise<Row[]> {
    const daemon = await startDaemon();
    try {
      const seeded = await allocateMany(daemon.url, ROWS, 8, "list");
      if (seeded.ok !== ROWS) throw new Error(`seeding gave ${seeded.ok} of ${ROWS} allocations`);
      const env = cleanEnv({ PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` });
      const commands = {
        table: [PORTCTL, "list", "--all"],
        json: [PORTCTL, "list", "--all", "--json"],
      };
      await sanityCheck(commands, env);
      const runs = opts.quick ? 10 : 30;
      const times = await interleaved(commands, env, runs);
      opts.log(`  portctl list --all:        ${spread(times.table, "ms")}`);
      opts.log(`  portctl list --all --json: ${spread(times.json, "ms")}`);
      return [
        {
          benchmark: "list",
          figure: `list --all table, ${ROWS} rows`,
          value: median(times.table),
          unit: "ms",
          reference: { label: "--json", value: median(times.json) },
          target: { on: "ratio", op: "<=", limit: 1.3 },
        },
      ];
    } finally {
      await daemon.stop();
    }
  },
};

// --- internal ---

/** Both must print every row, or the timing means nothing. */
async function sanityCheck(
  commands: { table: string[]; json: string[] },
  env: Record<string, string>,
): Promise<void> {
  const table = await timeRun(commands.table, env);
  const lines = table.stdout.trimEnd().split("\n");
  if (table.code !== 0 || lines.length !== ROWS + 1 || !lines[0]?.includes("LISTENING")) {
    throw new Error(`list --all gave exit ${table.code} and ${lines.length} lines`);
  }
  const json = await timeRun(commands.json, env);
  if (json.code !== 0 || (JSON.parse(json.stdout) as unknown[]).length !== ROWS) {
    throw new Error(`list --all --json gave exit ${json.code}`);
  }
}
