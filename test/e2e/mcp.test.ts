// `portctl mcp` end to end: the official SDK's Client over StdioClientTransport drives the
// compiled binary, against a real daemon (the compiled port-server) in a temp home. Every tool
// is called and its answer compared with the daemon's own state; the errors are the CLI's lines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import Ajv from "ajv";
import type { Allocation } from "../../src/core/model.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import { makeRepo } from "../helpers/git.ts";
import { connectMcp, type McpSession } from "../helpers/mcp.ts";

const NOT_RUNNING = "port-server is not running — start it with: portctl start";

let bin = "";
let home: TempHome;
let daemon: Daemon;
let project = "";
let session: McpSession;
let client: Client;

function connect(env: Record<string, string>, cwd: string): Promise<McpSession> {
  return connectMcp({ bin, cwd, env: { HOME: home.root, ...env } });
}

const call = <T>(name: string, args: Record<string, unknown> = {}) => session.call<T>(name, args);
const failure = (name: string, args: Record<string, unknown>, s = session) => s.failure(name, args);

async function allocations(): Promise<Allocation[]> {
  return (await checkedFetch(`${daemon.url}/v1/allocations`)).json() as Promise<Allocation[]>;
}

beforeAll(async () => {
  const dir = await builtBinaries();
  bin = join(dir, "portctl");
  home = tempHome("portctl-mcp-");
  daemon = await startDaemon({ home, bin: join(dir, "port-server") });
  project = makeRepo(home.root, "shop").main;
  session = await connect({ PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` }, home.root);
  client = session.client;
}, 120_000);

afterAll(async () => {
  await session?.close();
  await daemon?.stop();
  home?.cleanup();
});

describe("portctl mcp (compiled) over stdio", () => {
  test("initialize from a 2025-11-25 client (the v1 SDK, as hosts use): served, nothing on stderr", () => {
    expect(client.getServerVersion()?.name).toBe("port-server");
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {} });
    expect(client.getInstructions()).toContain("allocate");
    expect(LATEST_PROTOCOL_VERSION).toBe("2025-11-25");
    // Hosts log a server's stderr as errors: normal operation writes none.
    expect(session.stderr()).toBe("");
  });

  test("tools/list: every tool, valid JSON Schemas in and out, annotations", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "allocate",
      "release",
      "list",
      "check",
      "env",
      "scan",
      "prune",
      "history",
    ]);
    const ajv = new Ajv({ strict: false });
    for (const t of tools) {
      expect(t.description?.length ?? 0).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema?.type).toBe("object");
      expect(() => ajv.compile(t.inputSchema)).not.toThrow();
      expect(() => ajv.compile(t.outputSchema ?? {})).not.toThrow();
      // One type per schema (a nullable field is anyOf string | null): clients with a
      // single-type dialect (Gemini's function declarations) take it.
      expect(JSON.stringify(t.inputSchema)).not.toMatch(/"type":\[/);
      expect(JSON.stringify(t.outputSchema)).not.toMatch(/"type":\[/);
    }
    type ListOutput = {
      properties: { allocations: { items: { properties: Record<string, unknown> } } };
    };
    const listTool = tools.find((t) => t.name === "list");
    const checkout = (listTool?.outputSchema as unknown as ListOutput | undefined)?.properties
      .allocations.items.properties.checkout;
    expect(checkout).toEqual({
      description: expect.any(String),
      anyOf: [{ type: "string" }, { type: "null" }],
    });
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ["list", "check", "env", "history"]) {
      expect(byName[name]?.annotations?.readOnlyHint).toBe(true);
    }
    expect(byName.release?.annotations?.destructiveHint).toBe(true);
    expect(byName.allocate?.annotations).toMatchObject({
      readOnlyHint: false,
      idempotentHint: true,
    });
    expect(byName.allocate?.inputSchema.required).toEqual(["service"]);
    expect(byName.check?.inputSchema.required).toEqual(["port"]);
    // Inputs closed (a misspelt argument is refused); outputs open (a newer daemon may add fields).
    for (const t of tools) {
      expect(t.inputSchema.additionalProperties).toBe(false);
      expect(JSON.stringify(t.outputSchema)).not.toContain('"additionalProperties":false');
    }
  });

  test("allocate: app and instance from directory (a git checkout), reuse by default", async () => {
    const first = await call<{ allocation: Allocation; created: boolean }>("allocate", {
      service: "web",
      directory: project,
    });
    expect(first.created).toBe(true);
    expect(first.allocation).toMatchObject({ app: "shop", instance: "main", service: "web" });
    const again = await call<{ allocation: Allocation; created: boolean }>("allocate", {
      service: "web",
      directory: project,
    });
    expect(again).toEqual({ allocation: first.allocation, created: false });
    expect(await allocations()).toEqual([first.allocation]);
  });

  test("allocate errors: the CLI's lines for a taken port, a held service, bad arguments", async () => {
    const [held] = await allocations();
    if (!held) throw new Error("no allocation");
    expect(await failure("allocate", { service: "api", port: held.port, directory: project })).toBe(
      `port ${held.port} is already allocated to shop/main/web (id=${held.id})`,
    );
    expect(await failure("allocate", { service: "web", reuse: false, directory: project })).toBe(
      `shop/main/web (id=${held.id}) already has port ${held.port}; pass --reuse to get it back, or release it first`,
    );
    expect(await failure("allocate", { service: "web", port: 70000 })).toBe(
      "port must be an integer between 1 and 65535",
    );
    expect(await failure("allocate", { port: 3000 })).toBe("service is required");
    expect(await failure("allocate", { service: "a\u0007b" })).toBe(
      "service must not contain control characters",
    );
    expect(await failure("allocate", { service: "web", colour: "red" })).toBe(
      "unknown field: colour",
    );
    expect(await failure("allocate", { service: "web", directory: join(home.root, "nope") })).toBe(
      `directory ${join(home.root, "nope")} does not exist`,
    );
    expect(await allocations()).toHaveLength(1);
  });

  test("check: holder of an allocated port, a free port, and a port bound on the machine", async () => {
    const [held] = await allocations();
    const taken = await call<{ available: boolean; holder?: Allocation }>("check", {
      port: held?.port,
    });
    expect(taken).toMatchObject({ available: false, holder: held });
    const free = freePort();
    expect(await call("check", { port: free })).toEqual({
      port: free,
      available: true,
      system: { in_use: false },
      summary: `port ${free} is available`,
    });
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const bound = await call<{ available: boolean; system: { in_use: boolean } }>("check", {
        port: listener.port,
      });
      expect(bound.available).toBe(false);
      expect(bound.system.in_use).toBe(true);
      // The line portctl check prints: the process, named where the OS tells.
      expect((bound as { summary?: string }).summary).toStartWith(
        `port ${listener.port} is in use on this machine`,
      );
    } finally {
      listener.stop(true);
    }
    expect(await failure("check", { port: "80" })).toBe(
      "port must be an integer between 1 and 65535",
    );
  });

  test("list and env: the project's allocations, with listening state and SERVICE_PORT keys", async () => {
    const db = await allocations();
    const { allocations: rows } = await call<{
      allocations: (Allocation & { listening: boolean })[];
    }>("list", { directory: project });
    expect(rows).toEqual(db.map((a) => ({ ...a, listening: false })));
    expect(await call("list", { app: "other" })).toEqual({ allocations: [], compose_projects: [] });
    expect(await call("env", { directory: project })).toEqual({
      app: "shop",
      instance: "main",
      env: { WEB_PORT: db[0]?.port },
    });
    // The checkout's Compose project name, once it holds one (portctl run -- docker compose).
    const claimed = await checkedFetch(`${daemon.url}/v1/projects`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "shop", app: "shop", instance: "main", checkout: project }),
    });
    expect(claimed.status).toBe(201);
    expect(await call("env", { directory: project })).toMatchObject({ compose_project: "shop" });
    const listed = await call<{ compose_projects: { name: string }[] }>("list", {
      directory: project,
    });
    expect(listed.compose_projects.map((p) => p.name)).toEqual(["shop"]);
  });

  test("scan: findings, then register records them for the project", async () => {
    writeFileSync(
      join(project, "compose.yaml"),
      `services:\n  db:\n    image: postgres\n    ports: ["${freePort()}:5432"]\n  cache:\n    ports: ["6379"]\n`,
    );
    const found = await call<{ findings: { service: string; port: number }[] }>("scan", {
      directory: project,
    });
    expect(found.findings.map((f) => f.service)).toEqual(["db"]);
    // The keys of `portctl scan --json` (shared code), plus the folder scanned.
    const keys = ["directory", "findings", "errors", "warnings", "not_scanned"];
    expect(Object.keys(found)).toEqual(keys);
    const before = await allocations();
    expect(before).toHaveLength(1);
    const reg = await call<{ registrations: { result: string; allocation: Allocation }[] }>(
      "scan",
      { directory: project, register: true },
    );
    expect(reg.registrations.map((r) => r.result)).toEqual(["registered"]);
    expect(Object.keys(reg)).toEqual([...keys, "registrations"]);
    expect(reg.registrations[0]?.allocation).toMatchObject({
      app: "shop",
      instance: "main",
      service: "db",
      port: found.findings[0]?.port,
    });
    expect(await allocations()).toHaveLength(2);
  });

  test("resource ports://allocations: every allocation as JSON", async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(["ports://allocations"]);
    const read = await client.readResource({ uri: "ports://allocations" });
    const content = read.contents[0] as { text: string; mimeType: string };
    expect(content.mimeType).toBe("application/json");
    expect(JSON.parse(content.text)).toEqual(await allocations());
  });

  test("release: exactly what was released; nothing matching is an error", async () => {
    const other = join(home.root, "elsewhere");
    mkdirSync(other);
    const kept = await call<{ allocation: Allocation }>("allocate", {
      service: "web",
      directory: other,
    });
    const mine = (await allocations()).filter((a) => a.app === "shop");
    const res = await call<{ released: Allocation[] }>("release", { directory: project });
    expect(res.released).toEqual(mine);
    expect(await allocations()).toEqual([kept.allocation]);
    expect(await failure("release", { directory: project })).toBe(
      "no allocations match app=shop instance=main",
    );
    expect(await failure("release", { id: kept.allocation.id, app: "x" })).toBe(
      "id cannot be combined with app, instance, service, port or directory",
    );
    expect(await call("release", { id: kept.allocation.id })).toEqual({
      released: [kept.allocation],
    });
    expect(await failure("release", { id: kept.allocation.id })).toBe("allocation not found");
    expect(await allocations()).toEqual([]);
  });

  test("an unknown tool is a protocol error; the server keeps serving", async () => {
    await expect(client.callTool({ name: "nope", arguments: {} })).rejects.toThrow(
      "unknown tool: nope",
    );
    expect(await call("list", { all: true })).toMatchObject({ allocations: [] });
  });

  test("install --print from the binary: the binary itself runs `mcp`, no interpreter", () => {
    const res = Bun.spawnSync([bin, "mcp", "install", "--print", "--codex"], {
      env: { PATH: process.env.PATH ?? "", HOME: home.root, PORT_SERVER_ADDR: "127.0.0.1:4999" },
      cwd: home.root,
    });
    expect(res.exitCode).toBe(0);
    expect(res.stdout.toString()).toBe(
      `# Codex: ~/.codex/config.toml\n[mcp_servers.port-server]\ncommand = ${JSON.stringify(realpathSync(bin))}\nargs = ["mcp"]\nenv = { PORT_SERVER_ADDR = "127.0.0.1:4999" }\n`,
    );
  });

  test("the host closing stdin ends the server with exit 0", async () => {
    const proc = Bun.spawn([bin, "mcp"], {
      env: { PATH: process.env.PATH ?? "", HOME: home.root },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    proc.stdin.end();
    const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "hung")]);
    if (code === "hung") proc.kill("SIGKILL");
    expect(code).toBe(0);
    expect(await new Response(proc.stdout).text()).toBe("");
  });

  test("requests piped then stdin closed at once: every one is answered before the exit", async () => {
    const messages = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "pipe", version: "1" },
        },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "check", arguments: { port: freePort() } },
      },
      {
        jsonrpc: "2.0",
        id: 4,
        method: "tools/call",
        params: { name: "list", arguments: { all: true } },
      },
    ];
    const proc = Bun.spawn([bin, "mcp"], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: home.root,
        PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
      },
      cwd: home.root,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    proc.stdin.write(messages.map((m) => `${JSON.stringify(m)}\n`).join(""));
    proc.stdin.end();
    const code = await Promise.race([proc.exited, Bun.sleep(20_000).then(() => "hung")]);
    if (code === "hung") proc.kill("SIGKILL");
    expect(code).toBe(0);
    const answers = (await new Response(proc.stdout).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: number; error?: unknown });
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3, 4]);
    expect(answers.filter((a) => a.error)).toEqual([]);
  });

  test("daemon down: each tool answers the CLI's line, the resource read fails with it", async () => {
    const down = await connect({ PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` }, home.root);
    try {
      for (const [name, args] of [
        ["allocate", { service: "web" }],
        ["release", { id: 1 }],
        ["list", {}],
        ["check", { port: 3000 }],
        ["env", {}],
        ["scan", { directory: project, register: true }],
        ["prune", {}],
        ["history", {}],
      ] as const) {
        expect(await failure(name, args, down)).toBe(NOT_RUNNING);
      }
      await expect(down.client.readResource({ uri: "ports://allocations" })).rejects.toThrow(
        NOT_RUNNING,
      );
      // Still up and answering.
      expect((await down.client.listTools()).tools).toHaveLength(8);
    } finally {
      await down.close();
    }
  });
});
