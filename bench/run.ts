// The benchmark runner (`make bench`): runs each benchmark, prints its figures against a
// reference measured in the same run, then a summary table, also written as JSON to
// bench/results/latest.json. A missed target is a finding, not an error: the exit code is 0
// unless a benchmark could not run at all.
//
//   bun bench/run.ts [--quick] [--client wrk|fetch] [name ...]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { attribution } from "./attribution.ts";
import { cliLatency } from "./cli-latency.ts";
import { type Client, defaultClient } from "./lib/load.ts";
import { assertBuilt, cleanup, ROOT } from "./lib/procs.ts";
import {
  type Benchmark,
  type JudgedRow,
  judge,
  machine,
  machineLine,
  type Row,
  ratioText,
  table,
  targetText,
  writeJson,
} from "./lib/report.ts";
import { listBench } from "./list.ts";
import { mcpStart } from "./mcp-start.ts";
import { memoryBench } from "./memory.ts";
import { npmInstall } from "./npm-install.ts";
import { proxyBench } from "./proxy.ts";
import { scaling } from "./scaling.ts";
import { start } from "./start.ts";
import { throughput } from "./throughput.ts";

export const BENCHMARKS: Benchmark[] = [
  cliLatency,
  throughput,
  listBench,
  scaling,
  memoryBench,
  start,
  npmInstall,
  mcpStart,
  proxyBench,
  attribution,
];
/** A --quick smoke test never overwrites the figures of a full run. */
export const RESULTS = join(ROOT, "bench", "results", "latest.json");
export const QUICK_RESULTS = join(ROOT, "bench", "results", "latest-quick.json");

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      client: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const selected = select(positionals);
  const client = parseClient(values.client);
  assertBuilt();

  const m = machine();
  console.log(machineLine(m));
  console.log(`mode: ${values.quick ? "quick" : "full"}; load generator: ${client}\n`);
  const rows: JudgedRow[] = [];
  let crashed = false;
  for (const bench of selected) {
    console.log(`== ${bench.name}: ${bench.title}`);
    const started = performance.now();
    try {
      const benchRows = await bench.run({ quick: values.quick, client, log: console.log });
      for (const row of benchRows.map(judge)) {
        rows.push(row);
        console.log(`  → ${verdict(row)}`);
      }
    } catch (err) {
      crashed = true;
      console.log(`  ERROR: ${err instanceof Error ? err.message : String(err)}`);
      rows.push(judge(errorRow(bench.name, err)));
    } finally {
      await cleanup();
    }
    console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }

  console.log("== summary");
  console.log(machineLine(m));
  console.log(table(rows));
  const failed = rows.filter((r) => !r.pass).length;
  console.log(failed ? `\n${failed} of ${rows.length} targets FAILED` : "\nall targets met");
  const out = values.quick ? QUICK_RESULTS : RESULTS;
  writeJson(out, { machine: m, quick: values.quick, client, rows });
  console.log(`results written to ${out}`);
  return crashed ? 1 : 0;
}

// --- internal ---

const HELP = `Usage: bun bench/run.ts [--quick] [--client wrk|fetch] [name ...]

Benchmarks: ${BENCHMARKS.map((b) => b.name).join(", ")} (default: all)
  --quick    fewer iterations and shorter runs, for a smoke test (results go to
             bench/results/latest-quick.json, not latest.json)
  --client   throughput load generator (default: wrk when installed, else fetch)`;

function select(names: string[]): Benchmark[] {
  if (names.length === 0) return BENCHMARKS;
  return names.map((name) => {
    const bench = BENCHMARKS.find((b) => b.name === name);
    if (!bench) {
      throw new Error(
        `unknown benchmark "${name}" (one of: ${BENCHMARKS.map((b) => b.name).join(", ")})`,
      );
    }
    return bench;
  });
}

function parseClient(value: string | undefined): Client {
  if (value === undefined) return defaultClient();
  if (value === "fetch") return value;
  if (value === "wrk") {
    if (!Bun.which("wrk")) throw new Error("--client wrk: wrk is not installed");
    return value;
  }
  throw new Error(`--client must be wrk or fetch (got "${value}")`);
}

function verdict(r: JudgedRow): string {
  const ref = r.reference
    ? ` vs ${r.reference.label} ${r.reference.value.toFixed(1)} ${r.unit}`
    : "";
  const ratio = r.ratio !== undefined ? ` = ${ratioText(r.ratio)}` : "";
  const notes = r.notes?.length ? `  [${r.notes.join("; ")}]` : "";
  return `${r.figure}: ${r.value.toFixed(1)} ${r.unit}${ref}${ratio}; target ${targetText(r)}: ${r.pass ? "PASS" : "FAIL"}${notes}`;
}

function errorRow(benchmark: string, err: unknown): Row {
  const message = err instanceof Error ? err.message : String(err);
  return {
    benchmark,
    figure: "error",
    value: Number.NaN,
    unit: "",
    target: { on: "value", op: "<=", limit: Number.NaN },
    notes: [message],
  };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping servers and removing temp dirs`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  process.exitCode = await main(Bun.argv.slice(2));
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  await cleanup();
  process.exitCode = 2;
}
