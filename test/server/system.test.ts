// What is really listening: a socket this test opens, seen by the REAL probe through the API
// (in-process) and through `portctl check`/`list` against a real daemon; the range and exclusions
// in auto-assign and `status`; and the OpenAPI document against the routes the router serves.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { TCPSocketListener } from "bun";
import type { Hono } from "hono";
import { z } from "zod";
import { Allocator } from "../../src/core/allocator.ts";
import type { PortRange } from "../../src/core/config.ts";
import {
  allocateRequestSchema,
  filterSchema,
  portStatusSchema,
  type SystemUse,
} from "../../src/core/model.ts";
import { systemProbe } from "../../src/core/probe.ts";
import { Store } from "../../src/core/store.ts";
import { createApp } from "../../src/server/app.ts";
import { HOST, servedContract, TEST_PORT } from "../helpers/app.ts";
import { cliFixture, freePort, runWith } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { runServer, startDaemon, stopAllDaemons, tempHome } from "../helpers/daemon.ts";
import { timeWait } from "../helpers/timewait.ts";

const LINUX = process.platform === "linux";
/** The name the kernel gives this test process, as /proc/<pid>/comm shows it. */
const OUR_NAME = LINUX ? readFileSync("/proc/self/comm", "utf8").trim() : "";

let listener: TCPSocketListener;
beforeEach(() => {
  listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
});
afterEach(async () => {
  listener.stop(true);
  await stopAllDaemons();
});

/** The HTTP app in-process with the machine's own probe and a `:memory:` store. */
function realApp(range: PortRange = { lo: 3000, hi: 3009 }) {
  const store = new Store(":memory:");
  const probe = systemProbe();
  const allocator = new Allocator({ store, probe, range });
  const app: Hono = createApp({ store, allocator, probe, port: () => TEST_PORT });
  const send = async (method: string, path: string, json?: unknown) => {
    const headers: Record<string, string> = { host: HOST };
    if (json !== undefined) headers["content-type"] = "application/json";
    const body = json === undefined ? undefined : JSON.stringify(json);
    const res = await app.request(`http://${HOST}${path}`, { method, headers, body });
    await (await servedContract(app)).check(method, path, res);
    // The dashboard's page and files are not JSON.
    const isJson = res.headers.get("content-type")?.startsWith("application/json");
    return {
      status: res.status,
      body: (isJson ? await res.json() : {}) as Record<string, unknown>,
    };
  };
  return { app, store, send };
}

/** Our own process, where the OS names it (Linux); elsewhere only "in use" is certain. */
function expectOurs(system: unknown): void {
  if (LINUX) expect(system).toEqual({ in_use: true, pid: process.pid, process: OUR_NAME });
  else expect(system).toMatchObject({ in_use: true });
}

const db = { app: "a", instance: "dev", service: "db" };

describe("the API with the real probe", () => {
  test("GET /v1/ports/{port}: not available, in use, by this process", async () => {
    const { send } = realApp();
    const { status, body } = await send("GET", `/v1/ports/${listener.port}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ port: listener.port, available: false });
    expect(body.holder).toBeUndefined();
    expectOurs(body.system);

    const port = listener.port;
    listener.stop(true);
    expect(await send("GET", `/v1/ports/${port}`)).toEqual({
      status: 200,
      body: { port, available: true, system: { in_use: false } },
    });
  });

  test("claiming it is 409 with the process; ?adopt=true records it", async () => {
    const { send, store } = realApp();
    const port = listener.port;
    const refused = await send("POST", "/v1/allocations", { ...db, port });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: "port in use on system",
      code: "port_in_use",
      port,
    });
    expectOurs(refused.body.system);
    expect(store.list()).toEqual([]);

    const adopted = await send("POST", "/v1/allocations?adopt=true", { ...db, port });
    expect(adopted.status).toBe(201);
    expect(adopted.body).toMatchObject({ id: 1, ...db, port });
    const status = await send("GET", `/v1/ports/${port}`);
    expect(status.body).toMatchObject({ port, available: false, holder: adopted.body });
    expectOurs(status.body.system);
  });

  test("auto-assign never hands it out, even as the first port of the range", async () => {
    const lo = listener.port;
    const { send } = realApp({ lo, hi: Math.min(lo + 50, 65535) });
    const { status, body } = await send("POST", "/v1/allocations", db);
    expect(status).toBe(201);
    expect(body.port).toBeGreaterThan(lo);
    expect(systemProbe().listening()(body.port as number)).toBe(false);
  });
});

describe.if(LINUX)("one meaning of in use: a port whose only socket is in TIME_WAIT", () => {
  test("check says free, and a claim and auto-assign agree: it is handed out", async () => {
    const port = await timeWait();
    const { send, store } = realApp();
    expect(await send("GET", `/v1/ports/${port}`)).toEqual({
      status: 200,
      body: { port, available: true, system: { in_use: false } },
    });
    const claimed = await send("POST", "/v1/allocations", { ...db, port });
    expect(claimed).toMatchObject({ status: 201, body: { ...db, port } });
    expect(store.list()).toHaveLength(1);

    const auto = realApp({ lo: port, hi: port });
    expect(await auto.send("POST", "/v1/allocations", db)).toMatchObject({
      status: 201,
      body: { ...db, port },
    });
  });
});

describe("portctl against a daemon that sees this socket", () => {
  test("check: in use by whom, not registered; then allocated and listening", async () => {
    const f = await cliFixture("a");
    try {
      const port = listener.port;
      const free = await f.run(["check", "--port", String(port)]);
      const by = LINUX ? ` by ${OUR_NAME} \\(pid ${process.pid}\\)` : "( by .+)?";
      expect(free.code).toBe(1);
      expect(free.err).toEqual([]);
      expect(free.out).toHaveLength(1);
      expect(free.out[0]).toMatch(
        new RegExp(`^port ${port} is in use on this machine${by}, not registered$`),
      );

      const adopt = await checkedFetch(`${f.daemon.url}/v1/allocations?adopt=true`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...db, port }),
      });
      expect(adopt.status).toBe(201);
      expect(await f.run(["check", "--port", String(port)])).toEqual({
        code: 1,
        out: [`port ${port} is allocated to a/dev/db (id=1), listening`],
        err: [],
      });
      const listed = await f.run(["list"]);
      expect(listed.out[0]).toEndWith("  LISTENING");
      expect(listed.out[1]).toEndWith("  yes");

      listener.stop(true);
      expect((await f.run(["check", "--port", String(port)])).out).toEqual([
        `port ${port} is allocated to a/dev/db (id=1)`,
      ]);
      expect((await f.run(["list"])).out[1]).toEndWith("  no");
    } finally {
      await f.close();
    }
  });
});

describe("range and exclusions", () => {
  test("PORT_SERVER_EXCLUDE is skipped by auto-assign; status shows range and exclusions", async () => {
    const home = tempHome();
    try {
      const lo = freePort();
      const hi = lo + 20;
      const env = {
        PORT_SERVER_RANGE: `${lo}-${hi}`,
        PORT_SERVER_EXCLUDE: `${lo}, ${lo + 1}-${lo + 2}`,
      };
      const daemon = await startDaemon({ home, env });
      const init = {
        env: { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` },
        cwd: home.root,
        home: home.root,
      };
      const run = await runWith(["allocate", "-q", "--app", "a", "--service", "web"], init);
      expect({ ...run, out: [] }).toEqual({ code: 0, out: [], err: [] });
      // Past the exclusions, in the range; not re-measured with a bind afterwards: this range is
      // in the ephemeral one, where any client's connection may hold a port a moment later.
      const port = Number(run.out[0]);
      expect(run.out).toEqual([String(port)]);
      expect(port).toBeGreaterThanOrEqual(lo + 3);
      expect(port).toBeLessThanOrEqual(hi);

      const status = await runWith(["status"], init);
      expect(status.code).toBe(0);
      expect(status.out).toContain(`  range:   ${lo}-${hi} (auto-assign)`);
      expect(status.out).toContain(`  exclude: ${lo}, ${lo + 1}-${lo + 2}`);
      const json = JSON.parse((await runWith(["status", "--json"], init)).out.join("\n"));
      expect(json.health).toMatchObject({
        range: `${lo}-${hi}`,
        exclude: [`${lo}`, `${lo + 1}-${lo + 2}`],
      });
      // The names proxy every URL goes through, in the text too (it was only in --json).
      expect(json.health.proxy.port).toBeGreaterThan(0);
      expect(status.out).toContain(
        `  names:   http://NAME.localhost:${json.health.proxy.port} (the proxy)`,
      );
    } finally {
      await stopAllDaemons();
      home.cleanup();
    }
  });

  // The range itself (9000-8000, 0-10, abc) is refused in test/server/daemon.test.ts.
  test("an exclusion that makes no sense: the daemon refuses to start with one line", async () => {
    const home = tempHome();
    try {
      const run = await runServer(["--port", "0"], {
        home,
        env: { PORT_SERVER_EXCLUDE: "5432,abc" },
      });
      expect(run.exitCode).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trimEnd().split("\n")).toEqual([
        'port-server: PORT_SERVER_EXCLUDE: invalid port range "abc": expected LO-HI with ports 1-65535, e.g. 3000-32767 (see port-server --help)',
      ]);
    } finally {
      home.cleanup();
    }
  });
});

describe("OpenAPI", () => {
  type Doc = {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas: Record<string, unknown> };
  };
  const jsonSchema = (s: z.ZodType, io: "input" | "output" = "input") => {
    const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" });
    return rest;
  };
  const content = (o: unknown) =>
    (o as { content: Record<string, { schema: unknown }> }).content["application/json"]?.schema;

  test("documents exactly the routes the router serves, and each is served", async () => {
    const { app, send } = realApp();
    const { status, body } = await send("GET", "/v1/openapi.json");
    expect(status).toBe(200);
    const doc = body as unknown as Doc;
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = app.routes
      .filter((r) => r.method !== "ALL")
      // `:name{regex}` (a constrained parameter) is `{name}` in the document.
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
    expect(documented.sort()).toEqual(served.sort());
    expect(served).toHaveLength(19);
    // One of the dashboard's bundled files, as the page names it.
    const page = await app.request("http://127.0.0.1:40123/", {
      headers: { host: "127.0.0.1:40123" },
    });
    const asset = /\/(chunk-[\w-]+\.js)/.exec(await page.text())?.[1] ?? "missing";

    for (const route of documented) {
      const [method = "", path = ""] = route.split(" ");
      const url = path
        .replace("{id}", "1")
        .replace("{port}", String(listener.port))
        .replace("{asset}", asset);
      const res = await send(method, url, method === "GET" || url.endsWith("/1") ? undefined : {});
      expect({ route, error: res.body.error }).not.toEqual({ route, error: "not found" });
      expect({ route, status: res.status }).not.toEqual({ route, status: 405 });
    }
    expect((await send("POST", "/v1/openapi.json")).status).toBe(405);
  });

  test("schemas are generated from the ones the server validates with", async () => {
    const doc = (await realApp().send("GET", "/v1/openapi.json")).body as unknown as Doc;
    const allocations = doc.paths["/v1/allocations"] ?? {};
    expect(content(allocations.post?.requestBody)).toEqual(jsonSchema(allocateRequestSchema));
    expect(content(allocations.delete?.requestBody)).toEqual(jsonSchema(filterSchema));
    const ports = doc.paths["/v1/ports/{port}"]?.get?.responses as Record<string, unknown>;
    expect(content(ports["200"])).toEqual(jsonSchema(portStatusSchema, "output"));

    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(doc.components.schemas[ref.split("/").pop() ?? ""]).toBeDefined();
    }
  });
});

/** Keeps `SystemUse` honest: the probe's answer is what the API schema describes. */
test("the probe's answer parses with the API's system schema", () => {
  const who: SystemUse = systemProbe().who(listener.port);
  expect(portStatusSchema.shape.system.parse(who)).toEqual(who);
});
