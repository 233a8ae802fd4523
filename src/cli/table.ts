// Aligned tables for people: cells measured in terminal columns (CJK and emoji are two wide),
// long cells cut with `…` so that a row fits the terminal. `--json` never comes here.
import type { Colors } from "./output.ts";
import { safe } from "./output.ts";

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Styles the padded cell; padding is computed on the plain text. */
  style?: (text: string, row: T) => string;
  align?: "left" | "right";
  /** Never cut (ids, ports, times): the other columns give way. */
  fixed?: boolean;
  /**
   * A long column of fixed width (a time) that leaves the table, whole, when the row does not
   * fit, before any other column is cut: names stay readable on a narrow terminal.
   */
  droppable?: boolean;
}

/**
 * An aligned table, two spaces between columns, no trailing spaces; every cell escaped. With
 * `maxWidth` (see `tableWidth`), the widest columns that are not `fixed` are narrowed, and their
 * long cells cut with `…`, until a row fits (or each is down to its header).
 */
export function table<T>(rows: T[], columns: Column<T>[], c: Colors, maxWidth?: number): string[] {
  // Plain loops over flat arrays, each cell measured once: a CLI runs this once, cold, mostly
  // in the interpreter, where every builtin's first call and every allocation shows
  // (bench/list.ts).
  const n = columns.length;
  const headers: string[] = [];
  const natural: number[] = [];
  for (const col of columns) {
    headers.push(col.header);
    natural.push(width(col.header));
  }
  const headerWidths = natural.slice();
  const texts: string[] = [];
  const ws: number[] = [];
  for (const row of rows) {
    for (let i = 0; i < n; i++) {
      const text = safe((columns[i] as Column<T>).value(row));
      const w = width(text);
      texts.push(text);
      ws.push(w);
      if (w > (natural[i] as number)) natural[i] = w;
    }
  }
  const shown = kept(natural, columns, maxWidth);
  const fitted = fit(natural, columns, maxWidth, shown);
  const line = (at: number, cellTexts: string[], cellWidths: number[], row: T | undefined) => {
    let s = "";
    let first = true;
    let last = n - 1;
    while (last > 0 && !shown[last]) last--;
    for (let i = 0; i < n; i++) {
      if (!shown[i]) continue;
      const col = columns[i] as Column<T>;
      const w = fitted[i] as number;
      let t = cellTexts[at + i] as string;
      let tw = cellWidths[at + i] as number;
      if (tw > w) {
        t = cut(t, w);
        tw = width(t);
      }
      const pad = tw < w ? " ".repeat(w - tw) : "";
      const padded = col.align === "right" ? pad + t : i === last ? t : t + pad;
      const styled =
        row === undefined ? c.bold(padded) : col.style ? col.style(padded, row) : padded;
      s += first ? styled : `  ${styled}`;
      first = false;
    }
    return s.trimEnd();
  };
  const lines = [line(0, headers, headerWidths, undefined)];
  for (let r = 0; r < rows.length; r++) lines.push(line(r * n, texts, ws, rows[r]));
  return lines;
}

/**
 * How wide a table may be: the terminal's columns when printing to one, else `COLUMNS` when
 * set (a script may ask for a width), else no limit (a pipe gets every character).
 */
export function tableWidth(io: { columns?: number; env: Record<string, string | undefined> }) {
  if (io.columns && io.columns > 0) return io.columns;
  const env = Number(io.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

/** Display width in terminal columns. */
export function width(text: string): number {
  return Bun.stringWidth(text);
}

/** `text` cut to `max` columns with `…` at the end, whole characters only. */
export function cut(text: string, max: number): string {
  if (width(text) <= max) return text;
  if (max <= 0) return "";
  let out = "";
  for (const { segment } of graphemes().segment(text)) {
    if (width(out + segment) + 1 > max) break;
    out += segment;
  }
  return `${out}…`;
}

// --- internal ---

/** Which columns are shown: the droppable ones leave, rightmost first, while a row is too wide. */
function kept<T>(natural: number[], columns: Column<T>[], max: number | undefined): boolean[] {
  const shown = columns.map(() => true);
  if (!max) return shown;
  let total = -2;
  for (const w of natural) total += w + 2;
  for (let i = columns.length - 1; i >= 0 && total > max; i--) {
    if (!columns[i]?.droppable) continue;
    shown[i] = false;
    total -= (natural[i] as number) + 2;
  }
  return shown;
}

/** Narrows the widest cuttable column one column at a time until the row fits `max`. */
function fit<T>(
  natural: number[],
  columns: Column<T>[],
  max: number | undefined,
  shown: boolean[],
): number[] {
  const widths = natural.slice();
  if (!max) return widths;
  const floor: number[] = [];
  let total = -2;
  for (let i = 0; i < columns.length; i++) {
    const w = natural[i] as number;
    const col = columns[i] as Column<T>;
    floor.push(col.fixed || !shown[i] ? w : Math.min(w, Math.max(width(col.header), 4)));
    if (shown[i]) total += w + 2;
  }
  let excess = total - max;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      const w = widths[i] as number;
      if (w > (floor[i] as number) && (widest < 0 || w > (widths[widest] as number))) widest = i;
    }
    if (widest < 0) break; // as narrow as it goes: the terminal wraps the rest
    widths[widest] = (widths[widest] as number) - 1;
    excess--;
  }
  return widths;
}

let segmenter: Intl.Segmenter | undefined;

function graphemes(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return segmenter;
}
