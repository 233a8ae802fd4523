// The HTTP app in-process: a `:memory:` store, a fake probe and a fixed clock, driven through
// `app.request()` with the Host header a browser on 127.0.0.1 would send.
import { expect } from "bun:test";
import type { Hono } from "hono";
import { Allocator } from "../../src/core/allocator.ts";
import type { CheckoutExists } from "../../src/core/checkout.ts";
import type { PortRange } from "../../src/core/config.ts";
import type { Engine } from "../../src/core/engine.ts";
import type { MachineListener } from "../../src/core/listeners.ts";
import type { Processes } from "../../src/core/processes.ts";
import { Store } from "../../src/core/store.ts";
import { createApp } from "../../src/server/app.ts";
import { type Contract, contractOf, type OpenApiDoc } from "./contract.ts";
import { type FakeProbe, fakeProbe, fakeProcesses, fixedClock } from "./fakes.ts";

/** Never bound: the app runs in-process, this only names the server in Host and Origin. */
export const TEST_PORT = 40123;
export const HOST = `127.0.0.1:${TEST_PORT}`;
export const ORIGIN = `http://${HOST}`;
export const TEST_PID = 777;

export interface SendOptions {
  /** Serialised as the body, with `Content-Type: application/json` unless headers say otherwise. */
  json?: unknown;
  body?: RequestInit["body"];
  /** Merged over `Host: 127.0.0.1:<port>`; an `undefined` value removes a header. */
  headers?: Record<string, string | undefined>;
}

export interface TestApp {
  app: Hono;
  store: Store;
  probe: FakeProbe;
  allocator: Allocator;
  send(method: string, path: string, opts?: SendOptions): Promise<Response>;
  get(path: string, opts?: SendOptions): Promise<Response>;
  post(body: unknown, query?: string): Promise<Response>;
}

export function testApp(
  opts: {
    range?: PortRange;
    bound?: number[];
    processes?: Processes;
    checkoutExists?: CheckoutExists;
    now?: () => Date;
    /** The machine's listeners as `GET /v1/listeners` reports them (default: none). */
    listeners?: MachineListener[];
    /** The container engine (default: none, never asked). */
    engine?: Engine;
  } = {},
): TestApp {
  const now = opts.now ?? fixedClock;
  const store = new Store(":memory:", { now });
  const probe = fakeProbe(opts.bound);
  const range = opts.range ?? { lo: 3000, hi: 3009 };
  const allocator = new Allocator({
    store,
    probe,
    range,
    now,
    processes: opts.processes ?? fakeProcesses(),
    checkoutExists: opts.checkoutExists ?? (() => true),
  });
  const app = createApp({
    store,
    allocator,
    probe,
    port: () => TEST_PORT,
    pid: TEST_PID,
    version: "test",
    listeners: () => opts.listeners ?? [],
    ...(opts.engine ? { engine: opts.engine } : {}),
  });
  let contract: Contract | undefined;
  /** Every response is checked against the document this app serves (helpers/contract.ts). */
  const checked = async (method: string, path: string, res: Response): Promise<Response> => {
    contract ??= await servedContract(app);
    await contract.check(method, path, res);
    return res;
  };
  const send = async (method: string, path: string, o: SendOptions = {}) => {
    const headers: Record<string, string | undefined> = { host: HOST };
    let body = o.body;
    if (o.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(o.json);
    }
    Object.assign(headers, o.headers);
    const defined = Object.entries(headers).filter((e): e is [string, string] => e[1] != null);
    const res = await app.request(`http://${HOST}${path}`, { method, headers: defined, body });
    return checked(method, path, res);
  };
  return {
    app,
    store,
    probe,
    allocator,
    send,
    get: (path, o) => send("GET", path, o),
    post: (json, query = "") => send("POST", `/v1/allocations${query}`, { json }),
  };
}

/** The contract checker for the document an in-process app serves. */
export async function servedContract(app: Hono): Promise<Contract> {
  const res = await app.request(`http://${HOST}/v1/openapi.json`, { headers: { host: HOST } });
  const contract = contractOf((await res.clone().json()) as OpenApiDoc);
  await contract.check("GET", "/v1/openapi.json", res);
  return contract;
}

/** What every response must carry, and must not. */
export function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
  const cors = [...res.headers.keys()].filter((k) => k.toLowerCase().startsWith("access-control"));
  expect(cors).toEqual([]);
}

/**
 * Sends a bad request and checks the whole contract of an error: the status, a JSON body with
 * the message, the security headers, no change to the registry, and a server still healthy.
 */
export async function expectRejected(
  t: TestApp,
  send: () => Promise<Response>,
  status: number,
  error?: string | RegExp,
): Promise<Record<string, unknown>> {
  const before = t.store.list();
  const res = await send();
  const body = (await res.json()) as Record<string, unknown>;
  expect({ status: res.status, body }).toMatchObject({ status, body: {} });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(typeof body.error).toBe("string");
  if (typeof error === "string") expect(body.error).toBe(error);
  else if (error) expect(body.error).toMatch(error);
  expectSecurityHeaders(res);
  expect(t.store.list()).toEqual(before);
  expect((await t.get("/healthz")).status).toBe(200);
  return body;
}
