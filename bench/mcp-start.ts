// 6. MCP cold start: spawn `portctl mcp`, write an `initialize` request to its stdin, and stop
// the clock when the answer arrives on stdout: what a host waits for before it can list the
// tools. Then `tools/list`, whose answer (the tools' schemas, loaded after initialize) is noted
// too. `portctl --version` (process start alone) is timed alongside, interleaved.

import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import type { Subprocess } from "bun";
import { cleanEnv, freePort, PORTCTL, timeRun } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";

export const mcpStart: Benchmark = {
  name: "mcp-start",
  title: "MCP: portctl mcp cold start to the initialize answer",
  async run(opts: Options): Promise<Row[]> {
    // No daemon is needed to answer initialize; the address only has to be one nobody serves.
    const env = cleanEnv({ PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` });
    const runs = opts.quick ? 10 : 40;
    const times = { initialize: [] as number[], list: [] as number[], version: [] as number[] };
    for (let i = -3; i < runs; i++) {
      // Alternate which goes first; the first three rounds are warm-up (page cache).
      for (const which of i % 2 === 0 ? ["mcp", "version"] : ["version", "mcp"]) {
        if (which === "version") {
          const t = await version(env);
          if (i >= 0) times.version.push(t);
        } else {
          const t = await initialize(env);
          if (i >= 0) times.initialize.push(t.initialize);
          if (i >= 0) times.list.push(t.list);
        }
      }
    }
    opts.log(`  portctl mcp → initialize answer: ${spread(times.initialize, "ms")}`);
    opts.log(`  … → tools/list answer:          ${spread(times.list, "ms")}`);
    opts.log(`  portctl --version:               ${spread(times.version, "ms")}`);
    return [
      {
        benchmark: "mcp-start",
        figure: "portctl mcp initialize",
        value: median(times.initialize),
        unit: "ms",
        reference: { label: "portctl --version", value: median(times.version) },
        target: { on: "value", op: "<=", limit: 100 },
        notes: [`tools/list answered at ${median(times.list).toFixed(1)} ms after spawn`],
      },
    ];
  },
};

// --- internal ---

const REQUEST = `${JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "bench", version: "1" },
  },
})}\n`;

const LIST = `${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" })}\n`;

async function version(env: Record<string, string>): Promise<number> {
  const t = await timeRun([PORTCTL, "--version"], env);
  if (t.code !== 0) throw new Error(`portctl --version gave exit ${t.code}`);
  return t.ms;
}

/**
 * Spawn → the initialize result (the first line on stdout); then, as a host does, the
 * initialized notification and tools/list → its answer; then stdin closes.
 */
async function initialize(
  env: Record<string, string>,
): Promise<{ initialize: number; list: number }> {
  const start = performance.now();
  const proc = Bun.spawn([PORTCTL, "mcp"], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(REQUEST);
  proc.stdin.flush();
  const lines = readLines(proc);
  const line = await lines.next();
  const ms = performance.now() - start;
  proc.stdin.write(LIST);
  proc.stdin.flush();
  const listed = await lines.next();
  const listMs = performance.now() - start;
  proc.stdin.end();
  const exited = await Promise.race([proc.exited, Bun.sleep(5000).then(() => null)]);
  if (exited === null) proc.kill("SIGKILL");
  const answer = JSON.parse(line) as { id?: number; result?: { serverInfo?: { name?: string } } };
  if (answer.id !== 1 || answer.result?.serverInfo?.name !== "port-server") {
    throw new Error(`portctl mcp answered: ${line}`);
  }
  if (exited !== 0) throw new Error(`portctl mcp exited ${exited} after stdin closed`);
  const tools = (JSON.parse(listed) as { result?: { tools?: unknown[] } }).result?.tools;
  if (!tools?.length) throw new Error(`tools/list answered: ${listed.slice(0, 200)}`);
  return { initialize: ms, list: listMs };
}

/** stdout line by line. */
function readLines(proc: Subprocess<"pipe", "pipe", "pipe">): { next(): Promise<string> } {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    async next() {
      for (;;) {
        const nl = text.indexOf("\n");
        if (nl >= 0) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          return line;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`portctl mcp closed stdout without answering: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    },
  };
}
