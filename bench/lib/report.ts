// What a benchmark returns and how the run reports it: rows judged against their targets, the
// summary table, the machine line and bench/results/latest.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, arch as osArch, release as osRelease } from "node:os";
import { dirname } from "node:path";
import type { Client } from "./load.ts";
import { PORTCTL } from "./procs.ts";

export interface Options {
  quick: boolean;
  client: Client;
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  title: string;
  run(opts: Options): Promise<Row[]>;
}

/** A target on the ratio (figure ÷ reference) or on the figure itself. */
export interface Target {
  on: "ratio" | "value";
  op: "<=" | ">=";
  limit: number;
}

export interface Row {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  reference?: { label: string; value: number };
  target: Target;
  notes?: string[];
}

export interface JudgedRow extends Row {
  ratio?: number;
  pass: boolean;
}

export interface Machine {
  cpu: string;
  cores: number;
  os: string;
  bun: string;
  build: string;
}

export function judge(row: Row): JudgedRow {
  const ratio = row.reference ? row.value / row.reference.value : undefined;
  const measured = row.target.on === "ratio" ? ratio : row.value;
  const pass =
    measured !== undefined &&
    Number.isFinite(measured) &&
    (row.target.op === "<=" ? measured <= row.target.limit : measured >= row.target.limit);
  return { ...row, ...(ratio !== undefined ? { ratio } : {}), pass };
}

export function machine(): Machine {
  const cpu = cpus();
  const build = Bun.spawnSync([PORTCTL, "--version"]).stdout.toString().trim() || "unknown";
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: navigator.hardwareConcurrency || cpu.length,
    os: `${osName()} (kernel ${osRelease()}, ${osArch()})`,
    bun: Bun.version,
    build,
  };
}

export function machineLine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.os}, bun ${m.bun}; ${m.build}`;
}

/** The summary table, aligned, one line per row. */
export function table(rows: JudgedRow[]): string {
  const header = ["benchmark", "figure", "reference", "ratio", "target", "result"];
  const lines = rows.map((r) => [
    r.benchmark,
    Number.isNaN(r.value)
      ? `${r.figure}: ${r.notes?.join("; ")}`
      : `${r.figure}: ${fmt(r.value)} ${r.unit}`,
    r.reference ? `${r.reference.label}: ${fmt(r.reference.value)} ${r.unit}` : "—",
    r.ratio !== undefined ? ratioText(r.ratio) : "—",
    targetText(r),
    r.pass ? "PASS" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...lines.map(line)].join("\n");
}

export function writeJson(
  path: string,
  data: { machine: Machine; quick: boolean; client: Client; rows: JudgedRow[] },
): void {
  mkdirSync(dirname(path), { recursive: true });
  const body = { date: new Date().toISOString(), ...data };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
}

export function targetText(r: Row): string {
  const op = r.target.op === "<=" ? "≤" : "≥";
  return r.target.on === "ratio"
    ? `ratio ${op} ${r.target.limit}×`
    : `${op} ${r.target.limit} ${r.unit}`;
}

/** Two decimals, or two significant digits for a tiny ratio (0.0021×, not 0.00×). */
export function ratioText(ratio: number): string {
  return `${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×`;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 1000 ? Math.round(v).toString() : abs >= 100 ? v.toFixed(0) : v.toFixed(1);
}

// --- internal ---

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const name = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
    if (name) return name;
  } catch {
    // not Linux, or a minimal container
  }
  return process.platform;
}
