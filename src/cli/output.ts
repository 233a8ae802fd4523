// Everything the CLI prints for people: colours, the allocation table, one-line messages.
// `--json` output bypasses this and prints what the API returned.
import type { Allocation, SystemUse } from "../core/model.ts";
import type { Io } from "./io.ts";

export type Colors = Record<"bold" | "dim" | "green" | "yellow" | "red", (text: string) => string>;

const PLAIN: Colors = { bold: same, dim: same, green: same, yellow: same, red: same };

/** Colour only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org). */
export function colors(io: Io): Colors {
  if (!io.isTTY || io.env.NO_COLOR || io.env.TERM === "dumb") return PLAIN;
  // Loaded only for a terminal: picocolors inspects process.stdout as it loads, which costs a
  // compiled binary about 10 ms that a script piping our output should not pay.
  const pc = (require("picocolors") as typeof import("picocolors")).createColors(true);
  return { bold: pc.bold, dim: pc.dim, green: pc.green, yellow: pc.yellow, red: pc.red };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** `myapp/dev/postgres` */
export function owner(a: Pick<Allocation, "app" | "instance" | "service">): string {
  return `${a.app}/${a.instance}/${a.service}`;
}

/** `myapp/dev/postgres (id=1)` */
export function holderText(a: Allocation): string {
  return `${owner(a)} (id=${a.id})`;
}

/** ` by postgres (pid 812)`, ` by pid 812`, or nothing when the OS would not say. */
export function processText(sys: SystemUse | undefined): string {
  if (sys?.process) return ` by ${sys.process}${sys.pid ? ` (pid ${sys.pid})` : ""}`;
  return sys?.pid ? ` by pid ${sys.pid}` : "";
}

/** RFC 3339 UTC → local `2025-02-08 15:04:05`. */
export function localTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Styles the padded cell; padding is computed on the plain text. */
  style?: (text: string, row: T) => string;
  align?: "left" | "right";
}

/** An aligned table, two spaces between columns, no trailing spaces. */
export function table<T>(rows: T[], columns: Column<T>[], c: Colors): string[] {
  const cells = rows.map((r) => columns.map((col) => col.value(r)));
  const widths = columns.map((col, i) =>
    Math.max(col.header.length, ...cells.map((row) => row[i]?.length ?? 0)),
  );
  const render = (texts: string[], style: (text: string, i: number) => string) =>
    texts
      .map((t, i) => {
        const last = i === texts.length - 1;
        const w = widths[i] ?? 0;
        const padded = columns[i]?.align === "right" ? t.padStart(w) : last ? t : t.padEnd(w);
        return style(padded, i);
      })
      .join("  ")
      .trimEnd();
  const header = render(
    columns.map((col) => col.header),
    (t) => c.bold(t),
  );
  return [
    header,
    ...cells.map((row, r) =>
      render(row, (t, i) => {
        const style = columns[i]?.style;
        const data = rows[r];
        return style && data !== undefined ? style(t, data) : t;
      }),
    ),
  ];
}

export const ALLOCATION_COLUMNS: Column<Allocation>[] = [
  { header: "ID", value: (a) => String(a.id) },
  { header: "APP", value: (a) => a.app },
  { header: "INSTANCE", value: (a) => a.instance },
  { header: "SERVICE", value: (a) => a.service },
  { header: "PORT", value: (a) => String(a.port) },
  { header: "CREATED", value: (a) => localTime(a.created_at) },
];

// --- internal ---

function same(text: string): string {
  return text;
}
