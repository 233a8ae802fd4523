// `portctl mcp` driven by the official SDK's Client over StdioClientTransport, as a host drives
// it: the compiled binary, a clean environment, stderr collected, tool results unwrapped.
import { expect } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

export interface McpSession {
  client: Client;
  /** The server process's pid. */
  pid: number;
  stderr(): string;
  /** A tool call's structured answer; throws on a tool error. */
  call<T>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** A tool call that must fail: its one line (and no structured content). */
  failure(name: string, args: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function connectMcp(opts: {
  bin: string;
  cwd: string;
  env: Record<string, string>;
}): Promise<McpSession> {
  let stderr = "";
  const transport = new StdioClientTransport({
    command: opts.bin,
    args: ["mcp"],
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: "e2e", version: "1" });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid ?? 0,
    stderr: () => stderr,
    async call<T>(name: string, args: Record<string, unknown> = {}) {
      const res = await client.callTool({ name, arguments: args });
      if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content)}`);
      return res.structuredContent as T;
    },
    async failure(name, args) {
      const res = await client.callTool({ name, arguments: args });
      expect(res.isError).toBe(true);
      expect(res.structuredContent).toBeUndefined();
      const content = res.content as { type: string; text: string }[];
      expect(content).toHaveLength(1);
      return content[0]?.text ?? "";
    },
    close: () => client.close(),
  };
}
