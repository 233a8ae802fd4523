// `portctl mcp` (compiled) speaks every protocol revision hosts use: a client pinned to the
// current one, 2026-07-28 (the official v2 SDK's Client; `server/discover`, no initialize), and
// the 2025 revisions over `initialize` (2025-11-25 from the v1 SDK in mcp.test.ts; 2025-06-18
// here by hand, as Gemini CLI and older hosts send it). Nothing reaches stderr.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { builtBinaries } from "../helpers/binaries.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";

let bin = "";
let home: TempHome;
let daemon: Daemon;
let env: Record<string, string>;

beforeAll(async () => {
  const dir = await builtBinaries();
  bin = join(dir, "portctl");
  home = tempHome("portctl-mcp-protocols-");
  daemon = await startDaemon({ home, bin: join(dir, "port-server") });
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home.root,
    PORT_SERVER_HOME: home.env.PORT_SERVER_HOME,
    PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
  };
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  home?.cleanup();
});

describe("protocol revisions", () => {
  test("a client pinned to 2026-07-28 discovers, lists and calls the tools", async () => {
    let stderr = "";
    const transport = new StdioClientTransport({
      command: bin,
      args: ["mcp"],
      cwd: home.root,
      env,
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const client = new Client(
      { name: "modern", version: "1" },
      { versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("allocate");
      const res = await client.callTool({
        name: "allocate",
        arguments: { service: "web", app: "shop", instance: "main" },
      });
      expect(res.isError).toBeFalsy();
      expect(res.structuredContent).toMatchObject({ allocation: { app: "shop", service: "web" } });
      const held = await client.callTool({
        name: "allocate",
        arguments: { service: "db", app: "shop", instance: "wt", lease_session: "agent-7" },
      });
      expect(held.structuredContent).toMatchObject({ allocation: { lease_session: "agent-7" } });
      expect(stderr).toBe("");
    } finally {
      await client.close();
    }
  }, 60_000);

  test("initialize with 2025-06-18 is answered with 2025-06-18", async () => {
    const proc = Bun.spawn([bin, "mcp"], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const request = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "old", version: "1" },
      },
    };
    proc.stdin.write(`${JSON.stringify(request)}\n`);
    await proc.stdin.flush();
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    const answer = JSON.parse(new TextDecoder().decode(value).split("\n")[0] as string);
    expect(answer.result.protocolVersion).toBe("2025-06-18");
    expect(answer.result.serverInfo.name).toBe("port-server");
    proc.stdin.end();
    await proc.exited;
    expect(await new Response(proc.stderr).text()).toBe("");
  }, 30_000);
});
