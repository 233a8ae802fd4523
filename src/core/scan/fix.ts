// `portctl scan --fix`: each literal host port of a Compose file (`"5432:5432"`) rewritten in
// place to the variable `portctl env` writes (`"${POSTGRES_PORT:-5432}:5432"`), so the old number
// stays the default and `portctl run` can move the port. Only the port's own YAML node changes:
// every other byte (comments, order, quoting, indentation) is kept. A file where that is not
// safe is left untouched, with the reason.
import { readFileSync } from "node:fs";
import { isScalar, parseAllDocuments, type Scalar, visit } from "yaml";
import { namedPorts } from "./compose.ts";
import type { ComposeProject, PublishedPort } from "./model.ts";

export interface PortEdit {
  service: string;
  /** The variable the port is now read from (a range's first port). */
  key: string;
  /** A range: the variable its last port is read from (`CACHE_PORT_END`). */
  endKey?: string;
  port: number;
  line: number;
  /** The whole line, before and after. */
  before: string;
  after: string;
}

export interface FileFix {
  /** Absolute path. */
  file: string;
  edits: PortEdit[];
  /** The file's new text; absent when the file is refused. */
  text?: string;
  /** Why the file is left untouched. */
  refused?: string;
}

/**
 * The rewrite of every file with literal host ports in these projects. `keyOf` turns scan's
 * service name into the variable (`postgres` → `POSTGRES_PORT`): the CLI's env key rule.
 */
export function planFixes(
  projects: ComposeProject[],
  keyOf: (service: string) => string,
  read: (path: string) => string = (p) => readFileSync(p, "utf8"),
): FileFix[] {
  const byFile = new Map<string, Literal[]>();
  const used = new Set<string>();
  for (const project of projects) {
    for (const l of literals(project)) {
      const list = byFile.get(l.port.file) ?? [];
      if (!list.some((o) => o.service === l.service && sameNode(o.port, l.port))) list.push(l);
      byFile.set(l.port.file, list);
    }
    for (const s of project.services)
      for (const p of s.ports) for (const v of p.variables) used.add(v);
  }
  return [...byFile].map(([file, list]) => fixFile(file, list, keyOf, used, read));
}

// --- internal ---

interface Literal {
  /** scan's name for the port (`web`, `web-443`). */
  service: string;
  /** The Compose service it belongs to. */
  compose: string;
  port: PublishedPort;
}

/**
 * The literal host ports of a project, named as `scan` names them. A literal range is one
 * entry (its first port), named after its Compose service, as `run` names the block.
 */
function literals(project: ComposeProject): Literal[] {
  return namedPorts(project, (p) => p)
    .filter(({ port }) => port.variables.length === 0)
    .filter(({ port }) => !port.range?.span || port.host === port.range.first)
    .map(({ service, port, finding }) => ({
      service: port.range?.span ? service.name : finding.service,
      compose: service.name,
      port,
    }));
}

/** The variables a literal is rewritten to: one, or a range's two (`KEY`, `KEY_END`). */
function keysOf(l: Literal, keyOf: (service: string) => string): string[] {
  const key = keyOf(l.service);
  return l.port.range?.span ? [key, `${key}_END`] : [key];
}

function sameNode(a: PublishedPort, b: PublishedPort): boolean {
  return a.file === b.file && a.offset[0] === b.offset[0];
}

function fixFile(
  file: string,
  list: Literal[],
  keyOf: (service: string) => string,
  used: Set<string>,
  read: (path: string) => string,
): FileFix {
  const refuse = (why: string): FileFix => ({ file, edits: [], refused: why });
  const keys = new Map<string, string>();
  for (const l of list) {
    const sharing = list.filter((o) => sameNode(o.port, l.port));
    const services = [...new Set(sharing.map((o) => o.compose))];
    if (services.length > 1)
      return refuse(`line ${l.port.line} is an anchor shared by ${services.join(" and ")}`);
    if (sharing.length > 1)
      return refuse(`line ${l.port.line} (${l.port.text}) is shared by several ports`);
    if (!l.port.hostSpan && !l.port.range?.span)
      return refuse(`line ${l.port.line} (${l.port.text}) cannot be rewritten safely`);
    for (const key of keysOf(l, keyOf)) {
      if (used.has(key)) return refuse(`${key} already sets another port of the project`);
      const other = keys.get(key);
      if (other !== undefined && other !== l.service)
        return refuse(`${other} and ${l.service} would both be ${key}`);
      keys.set(key, l.service);
    }
  }
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    return refuse((err as Error).message);
  }
  const nodes = scalarsAt(text);
  const edits: { start: number; end: number; source: string; l: Literal; key: string }[] = [];
  for (const l of list) {
    const node = nodes.get(l.port.offset[0]);
    const key = keyOf(l.service);
    const source = node && rewritten(node, text, l.port, key);
    if (!source)
      return refuse(`line ${l.port.line} is written in a form that cannot be rewritten safely`);
    edits.push({ start: l.port.offset[0], end: l.port.offset[1], source, l, key });
  }
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.source + out.slice(e.end);
  const before = text.split("\n");
  const after = out.split("\n");
  return {
    file,
    text: out,
    edits: edits.map(({ l, key }) => ({
      service: l.service,
      key,
      ...(l.port.range?.span ? { endKey: `${key}_END` } : {}),
      port: l.port.host,
      line: l.port.line,
      before: before[l.port.line - 1] ?? "",
      after: after[l.port.line - 1] ?? "",
    })),
  };
}

/** Every scalar node of the file's documents, by its start offset. */
function scalarsAt(text: string): Map<number, Scalar> {
  const nodes = new Map<number, Scalar>();
  for (const doc of parseAllDocuments(text, { uniqueKeys: false })) {
    visit(doc, {
      Scalar(_, node) {
        if (node.range) nodes.set(node.range[0], node);
      },
    });
  }
  return nodes;
}

/**
 * The node's new source: the same quoting (a plain or numeric one becomes double-quoted), the
 * host port replaced by `${KEY:-port}`. undefined when the source is not the value as it reads
 * (escapes, a block scalar, a line break), which a plain replacement would garble.
 */
function rewritten(
  node: Scalar,
  text: string,
  port: PublishedPort,
  key: string,
): string | undefined {
  const span = port.range?.span ?? port.hostSpan;
  if (!isScalar(node) || !node.range || !span) return undefined;
  const raw = text.slice(node.range[0], node.range[1]);
  const value = port.text;
  const last = port.range ? port.range.first + port.range.count - 1 : port.host;
  const host = port.range?.span
    ? `\${${key}:-${port.host}}-\${${key}_END:-${last}}`
    : `\${${key}:-${port.host}}`;
  const next = `${value.slice(0, span[0])}${host}${value.slice(span[1])}`;
  if (/["'\\\n]/.test(value)) return undefined;
  if (node.type === "QUOTE_DOUBLE" && raw === `"${value}"`) return `"${next}"`;
  if (node.type === "QUOTE_SINGLE" && raw === `'${value}'`) return `'${next}'`;
  if (node.type === "PLAIN" && raw === value) return `"${next}"`;
  return undefined;
}
