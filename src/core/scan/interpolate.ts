// Compose variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
// `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR`, `$$` for a literal
// dollar, and defaults that are themselves interpolated (`${WEB_PORT:-${FALLBACK:-7800}}`).
// The result keeps which part of the value came from which variable, so a caller can tell a
// literal host port from one a variable sets, and name the variable, never its value.

export type Vars = Record<string, string | undefined>;

/** A run of the value: literal text, or what one top-level `${…}` / `$VAR` produced. */
export interface Part {
  text: string;
  /** Offsets in the raw text this part was written at. */
  raw: [number, number];
  /** The variable, when this part is one; `default` is what Compose uses when it is unset. */
  variable?: { name: string; default?: string; names: string[] };
}

export interface Interpolated {
  value: string;
  parts: Part[];
  /** Variables used without a value or a default (`${VAR}`, `${VAR:?err}` unset). */
  missing: string[];
  /** Set when the text is not a valid template (`${`, `${1X}`): Compose refuses the file. */
  invalid?: string;
}

export function interpolate(text: string, vars: Vars): Interpolated {
  const state: State = { text, vars, missing: [], invalid: undefined };
  const parts = scan(state, 0, text.length);
  return {
    value: parts.map((p) => p.text).join(""),
    parts,
    missing: state.missing,
    ...(state.invalid ? { invalid: state.invalid } : {}),
  };
}

/** What produced `value.slice(start, end)`: literal text only, or which variables. */
export function origin(
  parts: Part[],
  start: number,
  end: number,
): { literal: boolean; names: string[]; variable?: Part["variable"]; raw?: [number, number] } {
  const names: string[] = [];
  let literal = true;
  let pos = 0;
  let only: Part | undefined;
  let touched = 0;
  let rawStart: number | undefined;
  let rawEnd: number | undefined;
  for (const p of parts) {
    const from = pos;
    pos += p.text.length;
    if (pos <= start || from >= end || (p.text === "" && (from < start || from > end))) continue;
    touched++;
    only = p;
    if (p.variable) {
      literal = false;
      names.push(...p.variable.names);
    } else if (p.raw[1] - p.raw[0] === p.text.length) {
      rawStart ??= p.raw[0] + Math.max(0, start - from);
      rawEnd = p.raw[0] + Math.min(p.text.length, end - from);
    }
  }
  const whole = touched === 1 && only?.variable && pos >= end;
  return {
    literal,
    names: [...new Set(names)],
    ...(whole ? { variable: only?.variable } : {}),
    ...(literal && rawStart !== undefined && rawEnd !== undefined
      ? { raw: [rawStart, rawEnd] as [number, number] }
      : {}),
  };
}

// --- internal ---

interface State {
  text: string;
  vars: Vars;
  missing: string[];
  invalid: string | undefined;
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The parts of text[from, to). */
function scan(s: State, from: number, to: number): Part[] {
  const parts: Part[] = [];
  let litStart = from;
  const flush = (end: number) => {
    if (end > litStart) parts.push({ text: s.text.slice(litStart, end), raw: [litStart, end] });
  };
  let i = from;
  while (i < to) {
    if (s.text[i] !== "$") {
      i++;
      continue;
    }
    flush(i);
    const next = s.text[i + 1];
    if (next === "$") {
      parts.push({ text: "$", raw: [i, i + 2] });
      i += 2;
    } else if (next === "{") {
      const end = closingBrace(s.text, i, to);
      if (end < 0) {
        s.invalid ??= `unclosed "\${" at character ${i + 1}`;
        parts.push({ text: s.text.slice(i, to), raw: [i, to] });
        return parts;
      }
      parts.push(braced(s, i, end));
      i = end + 1;
    } else {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(s.text)?.[0];
      if (name && i + 1 + name.length <= to) {
        parts.push({ text: lookup(s, name), raw: [i, i + 1 + name.length], variable: named(name) });
        i += 1 + name.length;
      } else {
        parts.push({ text: "$", raw: [i, i + 1] }); // a lone `$`: kept, as Compose keeps it
        i += 1;
      }
    }
    litStart = i;
  }
  flush(to);
  return parts;
}

/** `${…}` from `start` (the `$`) to `end` (its `}`). */
function braced(s: State, start: number, end: number): Part {
  NAME.lastIndex = start + 2;
  const name = NAME.exec(s.text)?.[0] ?? "";
  const opAt = start + 2 + name.length;
  const op = /^(:?[-+?])?/.exec(s.text.slice(opAt, opAt + 2))?.[1] ?? "";
  const raw: [number, number] = [start, end + 1];
  if (!name || (op === "" && opAt !== end)) {
    s.invalid ??= `"${s.text.slice(start, end + 1)}" is not a valid variable reference`;
    return { text: s.text.slice(start, end + 1), raw };
  }
  const argParts = op ? scan(s, opAt + op.length, end) : [];
  const arg = argParts.map((p) => p.text).join("");
  const nested = argParts.flatMap((p) => p.variable?.names ?? []);
  const v = s.vars[name];
  const set = v !== undefined;
  const nonEmpty = set && v !== "";
  const names = [...new Set([name, ...nested])];
  const variable = (fallback?: string) => ({
    name,
    names,
    ...(fallback !== undefined ? { default: fallback } : {}),
  });
  switch (op) {
    case ":-":
      return { text: nonEmpty ? v : arg, raw, variable: variable(arg) };
    case "-":
      return { text: set ? v : arg, raw, variable: variable(arg) };
    case ":+":
      return { text: nonEmpty ? arg : "", raw, variable: variable() };
    case "+":
      return { text: set ? arg : "", raw, variable: variable() };
    case ":?":
    case "?":
      if (!(op === "?" ? set : nonEmpty)) s.missing.push(name);
      return { text: v ?? "", raw, variable: variable() };
    default:
      return { text: lookup(s, name), raw, variable: variable() };
  }
}

function lookup(s: State, name: string): string {
  const v = s.vars[name];
  if (v === undefined) s.missing.push(name);
  return v ?? "";
}

function named(name: string): Part["variable"] {
  return { name, names: [name] };
}

/** The `}` that closes the `${` at `start`, counting nested `${`; -1 when there is none. */
function closingBrace(text: string, start: number, to: number): number {
  let depth = 0;
  for (let i = start; i < to; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}
