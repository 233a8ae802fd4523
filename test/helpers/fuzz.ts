// Requests generated from the served OpenAPI document: fast-check arbitraries built from each
// operation's parameter and body schemas (valid requests), and mutations of them (invalid
// ones). Whether a generated request is valid is decided by validating it against the same
// document with ajv, never assumed from how it was made.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import fc from "fast-check";
import { type OpenApiDoc, rewriteRefs as rewrite } from "./contract.ts";

type Json = Record<string, unknown>;

export interface Operation {
  method: string;
  /** The template, e.g. `/v1/allocations/{id}`. */
  path: string;
  params: Param[];
  body?: Json;
}

interface Param {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: Json;
}

export interface Generated {
  method: string;
  target: string;
  headers: Record<string, string>;
  /** Sent as is; undefined: no body. */
  body?: string;
  /** What the document says of it. */
  valid: boolean;
  /** How it was made: "valid" or the mutation's name. */
  kind: string;
}

export function operationsOf(doc: OpenApiDoc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => {
      const o = op as { parameters?: Param[]; requestBody?: { content?: Record<string, Json> } };
      const body = o.requestBody?.content?.["application/json"]?.schema as Json | undefined;
      return { method: method.toUpperCase(), path, params: o.parameters ?? [], body };
    }),
  );
}

/** A generator of requests for one document; `rng` is fast-check's seed per sample. */
export class RequestFuzzer {
  readonly #defs: Json;
  readonly #ajv = new Ajv2020({ strict: false, validateFormats: false });
  readonly #compiled = new Map<Json, ValidateFunction>();

  readonly #live: Record<string, unknown>;

  /**
   * `live`: body fields whose valid values depend on the machine, not the document (a running
   * process's id for `lease_pid`): generated requests carry these values instead.
   */
  constructor(doc: OpenApiDoc, live: Record<string, unknown> = {}) {
    this.#defs = (doc.components?.schemas ?? {}) as Json;
    this.#live = live;
  }

  /** A request the document allows. */
  valid(op: Operation, seed: number): Generated {
    const values = this.#sample(this.#requestArb(op), seed);
    return this.#build(op, values, "valid");
  }

  /** A valid request broken in one way (chosen by `seed`); its validity is then re-checked. */
  invalid(op: Operation, seed: number): Generated {
    const values = this.#sample(this.#requestArb(op), seed);
    const mutations = this.#mutations(op, values);
    const [kind, mutate] = mutations[seed % mutations.length] as Mutation;
    return this.#build(op, mutate(values, seed), kind);
  }

  // --- internal ---

  #sample(arb: fc.Arbitrary<Values>, seed: number): Values {
    const v = fc.sample(arb, { numRuns: 1, seed })[0] as Values;
    if (!isObject(v.body)) return v;
    const live = Object.entries(this.#live).filter(([k]) => (v.body as Json)[k] != null);
    return { ...v, body: { ...v.body, ...Object.fromEntries(live) } };
  }

  readonly #arbs = new Map<Operation, fc.Arbitrary<Values>>();

  /** Built once per operation: a pattern's arbitrary (Unicode classes) is costly to make. */
  #requestArb(op: Operation): fc.Arbitrary<Values> {
    let arb = this.#arbs.get(op);
    if (!arb) {
      arb = this.#buildArb(op);
      this.#arbs.set(op, arb);
    }
    return arb;
  }

  #buildArb(op: Operation): fc.Arbitrary<Values> {
    const params = Object.fromEntries(
      op.params.map((p) => [
        p.name,
        p.required ? this.arb(p.schema) : fc.option(this.arb(p.schema), { nil: undefined }),
      ]),
    );
    return fc.record({
      params: fc.record(params) as fc.Arbitrary<Record<string, unknown>>,
      body: op.body ? this.arb(op.body) : fc.constant(undefined),
    });
  }

  /** A fast-check arbitrary of the values a JSON Schema allows (the subset zod emits). */
  arb(schema: Json): fc.Arbitrary<unknown> {
    const s = this.#resolve(schema);
    if ("const" in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
    const options = (s.oneOf ?? s.anyOf) as Json[] | undefined;
    if (options) return fc.oneof(...options.map((o) => this.arb(o)));
    switch (s.type) {
      case "string":
        return stringArb(s);
      case "integer":
        return fc.integer({
          min: bound(s.minimum, s.exclusiveMinimum, 1, -1e6),
          max: bound(s.maximum, s.exclusiveMaximum, -1, 1e6),
        });
      case "number":
        return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
      case "boolean":
        return fc.boolean();
      case "array":
        return fc.array(this.arb((s.items ?? {}) as Json), { maxLength: 3 });
      case "object":
        return this.#objectArb(s);
      default:
        return fc.jsonValue();
    }
  }

  #objectArb(s: Json): fc.Arbitrary<unknown> {
    const props = (s.properties ?? {}) as Record<string, Json>;
    const required = (s.required ?? []) as string[];
    const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, this.arb(v)]));
    const min = typeof s.minProperties === "number" ? s.minProperties : 0;
    // The fewest keys allowed is an edge worth hitting often (`{}` where nothing is required).
    const fewest = fc.record(model, { requiredKeys: required }).map((o) => {
      const keep = Object.keys(o).filter((k) => required.includes(k));
      return Object.fromEntries(keep.map((k) => [k, o[k]]));
    });
    return fc
      .oneof(
        { arbitrary: fewest, weight: 1 },
        { arbitrary: fc.record(model, { requiredKeys: required }), weight: 4 },
      )
      .filter((o) => Object.keys(o).length >= min);
  }

  /** Whether a value is valid by the document's schema. */
  conforms(schema: Json, value: unknown): boolean {
    let v = this.#compiled.get(schema);
    if (!v) {
      v = this.#ajv.compile({ ...(rewrite(schema) as Json), $defs: rewrite(this.#defs) });
      this.#compiled.set(schema, v);
    }
    return v(value) as boolean;
  }

  #resolve(schema: Json): Json {
    const ref = schema.$ref;
    if (typeof ref !== "string") return schema;
    return this.#resolve(this.#defs[ref.split("/").at(-1) ?? ""] as Json);
  }

  #mutations(op: Operation, values: Values): Mutation[] {
    const all: Mutation[] = [];
    for (const p of op.params.filter((p) => p.in !== "header")) {
      // Not empty in a path: `/v1/ports/` is another route (404), not a bad port.
      const bad = (seed: number) => junk(p.in === "path" && junk(seed) === "" ? seed + 1 : seed);
      all.push([`${p.in} ${p.name}: wrong value`, (v, seed) => withParam(v, p.name, bad(seed))]);
    }
    if (op.params.some((p) => p.in === "query")) {
      all.push(["unknown query parameter", (v) => ({ ...v, extraQuery: "x=1" })]);
    }
    if (op.body) {
      all.push(["body: not JSON", (v) => ({ ...v, raw: "{nope" })]);
      all.push([
        "body: wrong JSON type",
        (v, seed) => ({ ...v, body: [[], "x", 1, null, true][seed % 5] }),
      ]);
      if (isObject(values.body)) {
        // Live fields keep their live value: any other is a state refusal, not a bad request.
        for (const key of Object.keys(this.#props(op.body)).filter((k) => !(k in this.#live))) {
          all.push([
            `body ${key}: wrong value`,
            (v, seed) => ({ ...v, body: { ...(v.body as Json), [key]: junk(seed) } }),
          ]);
        }
        all.push([
          "body: unknown field",
          (v) => ({ ...v, body: { ...(v.body as Json), zz_unknown: 1 } }),
        ]);
      }
      all.push(["Content-Type text/plain", (v) => ({ ...v, type: "text/plain" })]);
      all.push([
        // Over every body limit the document states (64 KiB; 1 MiB for an import).
        "body over the limit",
        (v) => ({ ...v, raw: JSON.stringify({ pad: OVERSIZE }) }),
      ]);
    }
    all.push(["foreign Host", (v) => ({ ...v, headers: { host: "evil.example" } })]);
    if (op.method !== "GET")
      all.push(["cross-site", (v) => ({ ...v, headers: { "sec-fetch-site": "cross-site" } })]);
    return all;
  }

  #props(body: Json): Record<string, Json> {
    return (this.#resolve(body).properties ?? {}) as Record<string, Json>;
  }

  #build(op: Operation, v: Values, kind: string): Generated {
    let target = op.path;
    const query = new URLSearchParams();
    const headers: Record<string, string> = { ...v.headers };
    let valid = !v.headers && !v.extraQuery && !v.raw && !v.type;
    for (const p of op.params) {
      const value = v.params[p.name];
      if (value === undefined) continue;
      const text = String(value);
      if (p.in === "path") target = target.replace(`{${p.name}}`, encodeURIComponent(text));
      else if (p.in === "query") query.append(p.name, text);
      else headers[p.name] = text;
      // Parameters travel as text: the document's schema applies to the text for strings.
      const asSent = p.schema.type === "integer" ? Number(text) : text;
      if (!this.conforms(p.schema, typeof value === "string" ? text : asSent)) valid = false;
    }
    if (v.extraQuery) query.append("zz_unknown", "1");
    let body: string | undefined;
    if (op.body) {
      body = v.raw ?? JSON.stringify(v.body);
      if (!v.raw && !this.conforms(op.body, v.body)) valid = false;
      headers["content-type"] ??= v.type ?? "application/json";
    }
    const qs = query.size ? `?${query}` : "";
    return { method: op.method, target: target + qs, headers, body, valid, kind };
  }
}

// --- internal ---

interface Values {
  params: Record<string, unknown>;
  body: unknown;
  raw?: string;
  type?: string;
  extraQuery?: string;
  headers?: Record<string, string>;
}
type Mutation = [kind: string, mutate: (v: Values, seed: number) => Values];

const OVERSIZE = "x".repeat(2 * 1024 * 1024);
const JUNK: unknown[] = [
  "",
  " ",
  "0",
  "-1",
  "65536",
  "1e3",
  "abc",
  "a\u0000b",
  "x".repeat(200),
  1.5,
  -1,
  0,
  70000,
  true,
  null,
  {},
  [],
];

function junk(seed: number): unknown {
  return JUNK[seed % JUNK.length];
}

function withParam(v: Values, name: string, value: unknown): Values {
  return {
    ...v,
    params: { ...v.params, [name]: typeof value === "string" ? value : JSON.stringify(value) },
  };
}

function isObject(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function stringArb(s: Json): fc.Arbitrary<string> {
  if (typeof s.pattern === "string") return fc.stringMatching(new RegExp(s.pattern, "u"));
  const minLength = typeof s.minLength === "number" ? s.minLength : 0;
  const maxLength = typeof s.maxLength === "number" ? Math.min(s.maxLength, 40) : 40;
  return fc.string({ minLength, maxLength });
}

/** fast-check's integers are 32-bit. */
const INT32 = 2 ** 31 - 1;

function bound(inclusive: unknown, exclusive: unknown, step: number, fallback: number): number {
  if (typeof inclusive === "number") return Math.max(-INT32, Math.min(INT32, inclusive));
  if (typeof exclusive === "number") return exclusive + step;
  return fallback;
}
