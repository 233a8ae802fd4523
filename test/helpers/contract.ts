// The OpenAPI document as the contract: every response a test receives is checked against the
// document the server itself serves at /v1/openapi.json. The status must be declared for that
// operation (or, where no operation exists, be our 404/405 Error), the Content-Type must be the
// declared one, the body must validate against the declared schema (JSON Schema 2020-12, ajv),
// and declared required headers (Allow on a 405) must be present.
//
//   const contract = await contractFrom(daemon.url);   // or contractOf(documentObject)
//   await contract.check("POST", "/v1/allocations", res);  // throws (fails the test) if not
//
// testApp() (helpers/app.ts) and checkedFetch() below call it on every response.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";

export interface Contract {
  /** The served document, parsed. */
  doc: OpenApiDoc;
  /**
   * Checks one response against the document; throws a readable Error if it breaks it. Reads a
   * clone, so the caller can still read `res`. `target` may carry a query string.
   */
  check(method: string, target: string, res: Response): Promise<void>;
  /** As check, for a response already read (a raw-socket answer). */
  checkParsed(method: string, target: string, got: ParsedResponse): void;
}

export interface ParsedResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export type OpenApiDoc = {
  info?: { title?: string; version?: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
};

/** Builds (once per distinct document) the checker for a document. */
export function contractOf(doc: OpenApiDoc): Contract {
  const key = JSON.stringify(doc);
  let contract = cache.get(key);
  if (!contract) {
    contract = build(doc);
    cache.set(key, contract);
  }
  return contract;
}

/** Fetches the document a running server serves, and builds its checker. */
export async function contractFrom(baseUrl: string): Promise<Contract> {
  const res = await realFetch(`${baseUrl}/v1/openapi.json`, {
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const contract = contractOf((await res.clone().json()) as OpenApiDoc);
  await contract.check("GET", "/v1/openapi.json", res);
  return contract;
}

/**
 * fetch, with the response checked against the document served by the same origin. For tests
 * against a real daemon; the document is fetched once per origin and document.
 */
export async function checkedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const { origin, pathname, search } = new URL(url);
  const res = await realFetch(url, { signal: AbortSignal.timeout(10_000), ...init });
  await (await contractFor(origin)).check(init.method ?? "GET", pathname + search, res);
  return res;
}

/**
 * From now on, every response the daemon at `origin` gives to any fetch of this process is
 * checked too: portctl's own client in the in-process CLI tests included. `unwatch` (called by
 * the daemon helper's stop) returns what broke the document.
 */
export function watch(origin: string): void {
  installWatcher();
  watched.set(origin, { pending: [], broken: [] });
  // Fetched now, while the daemon is surely up; a response is checked once it has arrived.
  contractFor(origin).catch(() => {});
}

export async function unwatch(origin: string): Promise<string[]> {
  const w = watched.get(origin);
  watched.delete(origin);
  if (!w) return [];
  await Promise.all(w.pending);
  return w.broken;
}

// --- internal ---

type Operation = {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
};
type ResponseObject = {
  description?: string;
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: unknown }>;
};

const GUARD_STATUSES = [403, 413, 415];
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const cache = new Map<string, Contract>();
const byOrigin = new Map<string, Promise<Contract>>();
const realFetch = globalThis.fetch;
const BROKEN = "response breaks the OpenAPI document";
const watched = new Map<string, { pending: Promise<void>[]; broken: string[] }>();
let watching = false;

/** One origin may be served by another daemon later in a run: same port, same document. */
function contractFor(origin: string): Promise<Contract> {
  let contract = byOrigin.get(origin);
  if (!contract) {
    contract = contractFrom(origin);
    byOrigin.set(origin, contract);
    contract.catch(() => byOrigin.delete(origin));
  }
  return contract;
}

function installWatcher(): void {
  if (watching) return;
  watching = true;
  const watcher = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await realFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const w = watched.get(url.origin);
    if (w) {
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      const target = url.pathname + url.search;
      // Cloned now: the caller may read the body before the document has arrived.
      const copy = res.clone();
      const done = contractFor(url.origin)
        .then((c) => c.check(method, target, copy))
        .catch((err: Error) => {
          // Only a response that breaks the document counts; a document that could not be
          // fetched (the daemon already stopped) leaves nothing to check against.
          if (err.message.startsWith(BROKEN)) w.broken.push(err.message.split("\n")[0] ?? "");
        });
      w.pending.push(done);
    }
    return res;
  };
  globalThis.fetch = Object.assign(watcher, { preconnect: realFetch.preconnect }) as typeof fetch;
}

function build(doc: OpenApiDoc): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const defs = rewriteRefs(doc.components?.schemas ?? {}) as Record<string, unknown>;
  const compiled = new Map<unknown, ValidateFunction>();
  const validator = (schema: unknown): ValidateFunction => {
    let v = compiled.get(schema);
    if (!v) {
      const s = rewriteRefs(schema) as Record<string, unknown>;
      v = ajv.compile(typeof s === "object" && s !== null ? { ...s, $defs: defs } : s);
      compiled.set(schema, v);
    }
    return v;
  };
  const templates = Object.keys(doc.paths).map((t) => ({ t, re: templateRegex(t) }));
  // Literal paths win over templated ones, as in the routers the document describes.
  templates.sort((a, b) => Number(a.t.includes("{")) - Number(b.t.includes("{")));
  const error = doc.components?.schemas?.Error ? validator({ $ref: "#/$defs/Error" }) : undefined;

  const checkParsed = (method: string, target: string, got: ParsedResponse): void => {
    // As the server sees it: absolute-form targets and dot segments resolved (WHATWG URL).
    const path = pathOf(target);
    const where = `${method.toUpperCase()} ${target} → ${got.status}`;
    const fail: (why: string) => never = (why) => {
      throw new Error(`${BROKEN}: ${where}: ${why}\nbody: ${got.body}`);
    };
    const item = templates.find(({ re }) => re.test(path));
    // HEAD is answered wherever GET is (RFC 9110), without a body.
    const m = method.toLowerCase();
    const ops = item ? doc.paths[item.t] : undefined;
    const op = ops?.[m] ?? (m === "head" ? ops?.get : undefined);
    if (!item || !op) {
      undeclared(got, item ? doc.paths[item.t] : undefined, error, fail);
      return;
    }
    const declared =
      op.responses?.[String(got.status)] ??
      op.responses?.[`${String(got.status)[0]}XX`] ??
      op.responses?.default;
    if (!declared)
      fail(
        `status ${got.status} is not declared (declared: ${Object.keys(op.responses ?? {}).join(", ")})`,
      );
    for (const [name, h] of Object.entries(declared.headers ?? {})) {
      if (h.required && got.headers[name.toLowerCase()] === undefined)
        fail(`header ${name} is declared required but missing`);
    }
    if (method.toUpperCase() === "HEAD") return;
    const content = declared.content;
    if (!content) {
      if (got.body !== "") fail("a body where the document declares none");
      return;
    }
    const type = (got.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const media = content[type];
    if (!media)
      fail(`Content-Type "${type}" is not declared (declared: ${Object.keys(content).join(", ")})`);
    if (media.schema !== undefined) validateBody(validator(media.schema), got.body, fail);
  };

  return {
    doc,
    checkParsed,
    async check(method, target, res) {
      const copy = res.clone();
      const headers: Record<string, string> = {};
      copy.headers.forEach((v, k) => {
        headers[k.toLowerCase()] = v;
      });
      checkParsed(method, target, { status: copy.status, headers, body: await copy.text() });
    },
  };
}

/**
 * No operation for this method and path: the only answers the server may give are our Error
 * with 404 (no such path) or 405 (a known path, another method) carrying Allow.
 */
function undeclared(
  got: ParsedResponse,
  item: Record<string, Operation> | undefined,
  error: ValidateFunction | undefined,
  fail: (why: string) => never,
): void {
  const want = item ? 405 : 404;
  // The guards run before routing, so they may refuse a request on any path first.
  if (![want, ...GUARD_STATUSES].includes(got.status)) {
    fail(`no operation here, so only ${want} (or a guard's ${GUARD_STATUSES.join("/")}) is ours`);
  }
  if (item && got.status === 405) {
    const allow = (got.headers.allow ?? "").split(",").map((m) => m.trim().toLowerCase());
    const served = Object.keys(item).filter((k) => METHODS.includes(k));
    if (item.get && !item.head) served.push("head");
    if (!served.every((m) => allow.includes(m)))
      fail(`Allow "${got.headers.allow ?? ""}" does not list ${served.join(", ")}`);
  }
  if (!(got.headers["content-type"] ?? "").startsWith("application/json")) fail("not JSON");
  if (error) validateBody(error, got.body, fail);
}

function validateBody(v: ValidateFunction, body: string, fail: (why: string) => never): void {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    fail("body is not JSON");
  }
  if (!v(value)) {
    const errors = (v.errors ?? []).map(
      (e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`,
    );
    fail(`body does not match its schema: ${errors.join("; ")}`);
  }
}

function pathOf(target: string): string {
  try {
    return new URL(target, "http://server.invalid").pathname;
  } catch {
    return target.split("?")[0] ?? target;
  }
}

function templateRegex(template: string): RegExp {
  const escaped = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))
    .join("[^/]+");
  return new RegExp(`^${escaped}$`);
}

/** `#/components/schemas/X` → `#/$defs/X`, so each schema compiles on its own. */
export function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string"
        ? v.replace("#/components/schemas/", "#/$defs/")
        : rewriteRefs(v),
    ]),
  );
}
