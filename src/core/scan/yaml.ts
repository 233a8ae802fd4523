// A Compose file as plain values that remember where they were written. The `yaml` package does
// the YAML work: document streams (`---`), anchors and aliases, `<<` merge keys (its `merge`
// option) and the `!reset` / `!override` tags (custom tags). Before its toJS() runs, every
// scalar value is boxed with its file, line and offsets, so a port reached through `*alias` or
// `<<: *base` still points at the node that defines it.
import {
  type CollectionTag,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type ScalarTag,
  visit,
  YAMLMap,
  YAMLSeq,
} from "yaml";
import { MAX_ALIAS_WORK, MAX_EXPANDED_NODES } from "../config.ts";
import { at, type Problem } from "./types.ts";

/** A scalar value and the node it was written in. */
export class Located {
  constructor(
    readonly value: unknown,
    readonly file: string,
    readonly line: number,
    readonly offset: [number, number],
  ) {}
}

/** A value written with `!reset` (drop what earlier files set) or `!override` (replace it). */
export class Tagged {
  constructor(
    readonly mode: "reset" | "override",
    readonly value: unknown,
  ) {}
}

export interface YamlFile {
  /** One value per document of the stream, in order (Compose merges them as override files). */
  documents: unknown[];
  problems: Problem[];
}

/** `file` (absolute) goes into every box; `label` names the file in messages. */
export function readYaml(text: string, file: string, label = file): YamlFile {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    merge: true,
    uniqueKeys: false,
    customTags: TAGS,
  });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      return { documents: [], problems: [problem(label, error.message, pos?.line, pos?.col)] };
    }
  }
  const documents: unknown[] = [];
  for (const doc of list) {
    const tally: Tally = { nodes: 0, aliases: 0, anchors: new Map() };
    const expanded = box(doc.contents, file, lines, tally);
    // The library resolves each alias by a walk of the whole document and copies what a merge
    // key names: cheap for real files (Sentry's: 134 aliases, ~3,000 nodes), quadratic or
    // exponential for a hostile one. Its own limit (per anchor) refuses Sentry's file at the
    // default and bounds neither, so the whole document is measured here first.
    if (tally.aliases * tally.nodes > MAX_ALIAS_WORK || expanded > MAX_EXPANDED_NODES) {
      const message = `too many aliases to expand safely (${tally.aliases} aliases in ${tally.nodes} nodes); not read`;
      return { documents: [], problems: [problem(label, message)] };
    }
    try {
      documents.push(doc.toJS({ maxAliasCount: -1 }));
    } catch (err) {
      // "Merge sources must be maps", an alias bomb: the library's words, our one-line form
      const line = badMerge(doc, lines);
      return { documents: [], problems: [problem(label, (err as Error).message, line)] };
    }
  }
  return { documents, problems: [] };
}

/** The plain value: boxes and tags removed, all the way down. */
export function plain(value: unknown): unknown {
  if (value instanceof Located) return plain(value.value);
  if (value instanceof Tagged) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBox(value);
}

// --- internal ---

interface Tally {
  nodes: number;
  aliases: number;
  /** Each anchor's size once its aliases are expanded, as defined so far. */
  anchors: Map<string, number>;
}

function isBox(value: object): boolean {
  return value instanceof Located || value instanceof Tagged;
}

/**
 * Every scalar value (not key) boxed with its position, in place; returns the node's size once
 * aliases are expanded. A plain walk rather than `visit`, which freezes a path array per node (a
 * tenth of scan's time on a large tree). Aliases are left alone: they resolve to the anchored
 * node, which is boxed where it stands.
 */
function box(node: unknown, file: string, lines: LineCounter, t: Tally): number {
  if (isAlias(node)) {
    t.aliases++;
    return t.anchors.get(node.source) ?? 1;
  }
  t.nodes++;
  let size = 1;
  if (isScalar(node)) {
    if (node.range) {
      const [start, end] = node.range;
      node.value = new Located(node.value, file, lines.linePos(start).line, [start, end]);
    }
  } else if (isMap(node)) {
    for (const pair of node.items) size += 1 + box(pair.value, file, lines, t);
  } else if (isSeq(node)) {
    for (const item of node.items) size += box(item, file, lines, t);
  }
  const anchor = (node as { anchor?: string } | null)?.anchor;
  if (anchor) t.anchors.set(anchor, size);
  return size;
}

/** The line of the first `<<` whose value is not a map (or an alias of one, or a list of those). */
function badMerge(doc: Document, lines: LineCounter): number | undefined {
  let found: number | undefined;
  const isMapNode = (n: unknown): boolean => isMap(isAlias(n) ? n.resolve(doc) : n);
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || typeof pair.key.value !== "symbol" || !pair.key.range) return;
      const value = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
      const ok = isSeq(value) ? value.items.every(isMapNode) : isMapNode(value);
      if (!ok) {
        found = lines.linePos(pair.key.range[0]).line;
        return visit.BREAK;
      }
    },
  });
  return found;
}

function problem(file: string, message: string, line?: number, col?: number): Problem {
  // The library appends " at line 6, column 3:" and a code excerpt; we give file:line:col.
  const first = message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "");
  return { source: at(file, line, col), message: first || "invalid YAML", severity: "error" };
}

// The library's own extension point for tags: a collection tag's `nodeClass`. Its toJSON() hands
// back the converted value wrapped in a Tagged (the base types promise a plain array or object,
// hence the casts).
type Ctx = Parameters<YAMLMap["toJSON"]>[1];
class ResetMap extends YAMLMap {
  override toJSON(arg?: unknown, ctx?: Ctx) {
    return new Tagged("reset", super.toJSON(arg, ctx)) as unknown as ReturnType<YAMLMap["toJSON"]>;
  }
}
class OverrideMap extends YAMLMap {
  override toJSON(arg?: unknown, ctx?: Ctx) {
    return new Tagged("override", super.toJSON(arg, ctx)) as unknown as ReturnType<
      YAMLMap["toJSON"]
    >;
  }
}
class ResetSeq extends YAMLSeq {
  override toJSON(arg?: unknown, ctx?: Ctx) {
    return new Tagged("reset", super.toJSON(arg, ctx)) as unknown as unknown[];
  }
}
class OverrideSeq extends YAMLSeq {
  override toJSON(arg?: unknown, ctx?: Ctx) {
    return new Tagged("override", super.toJSON(arg, ctx)) as unknown as unknown[];
  }
}

const never = () => false;
const collection = (tag: string, kind: "map" | "seq", nodeClass: unknown): CollectionTag =>
  ({ tag, collection: kind, nodeClass, identify: never }) as unknown as CollectionTag;
const scalar = (tag: string, mode: Tagged["mode"]): ScalarTag => ({
  tag,
  identify: never,
  resolve: (text: string) => new Tagged(mode, text === "" || mode === "reset" ? null : text),
});

const TAGS = [
  collection("!reset", "map", ResetMap),
  collection("!reset", "seq", ResetSeq),
  collection("!override", "map", OverrideMap),
  collection("!override", "seq", OverrideSeq),
  scalar("!reset", "reset"),
  scalar("!override", "override"),
];
