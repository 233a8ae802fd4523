// 1. CLI latency: `portctl check --port N` against `curl` fetching the same URL, interleaved so
// that noise hits both alike. `portctl --version` (no request at all) is timed alongside: the
// gap between it and `check` is the request, the rest is process start.
import { allocateInit } from "./lib/load.ts";
import { cleanEnv, PORTCTL, startDaemon, timeRun } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";

export const cliLatency: Benchmark = {
  name: "cli-latency",
  title: "CLI latency: portctl check vs curl",
  async run(opts: Options): Promise<Row[]> {
    if (!Bun.which("curl")) throw new Error("curl is not installed");
    const daemon = await startDaemon();
    try {
      // A taken port, so both answers carry a holder.
      const res = await fetch(`${daemon.url}/v1/allocations`, allocateInit("cli", 0, 0));
      const port = ((await res.json()) as { port: number }).port;
      const env = cleanEnv({ PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` });
      const commands = {
        portctl: [PORTCTL, "check", "--port", String(port)],
        curl: ["curl", "-s", `${daemon.url}/v1/ports/${port}`],
        version: [PORTCTL, "--version"],
      };
      await sanityCheck(commands, env, port);

      const runs = opts.quick ? 10 : 40;
      const times: Record<keyof typeof commands, number[]> = { portctl: [], curl: [], version: [] };
      const order = Object.keys(commands) as (keyof typeof commands)[];
      for (let i = -3; i < runs; i++) {
        // Rotate the order each round; the first three rounds are warm-up (page cache).
        for (let k = 0; k < order.length; k++) {
          const name = order[(i + 3 + k) % order.length] as keyof typeof commands;
          const t = await timeRun(commands[name], env);
          if (i >= 0) times[name].push(t.ms);
        }
      }
      opts.log(`  portctl check --port ${port}: ${spread(times.portctl, "ms")}`);
      opts.log(`  curl -s …/v1/ports/${port}:  ${spread(times.curl, "ms")}`);
      opts.log(`  portctl --version (no request): ${spread(times.version, "ms")}`);
      return [
        {
          benchmark: "cli-latency",
          figure: "portctl check",
          value: median(times.portctl),
          unit: "ms",
          reference: { label: "curl", value: median(times.curl) },
          target: { on: "ratio", op: "<=", limit: 1.5 },
          notes: [`portctl --version alone: ${median(times.version).toFixed(1)} ms`],
        },
      ];
    } finally {
      await daemon.stop();
    }
  },
};

// --- internal ---

/** Both commands must really answer about the port, or the timing means nothing. */
async function sanityCheck(
  commands: { portctl: string[]; curl: string[] },
  env: Record<string, string>,
  port: number,
): Promise<void> {
  const ours = await timeRun(commands.portctl, env);
  if (ours.code !== 1 || !ours.stdout.includes(`port ${port} is allocated`)) {
    throw new Error(`portctl check gave exit ${ours.code}: ${ours.stdout.trim()}`);
  }
  const curl = await timeRun(commands.curl, env);
  if (curl.code !== 0 || !curl.stdout.includes(`"port":${port}`)) {
    throw new Error(`curl gave exit ${curl.code}: ${curl.stdout.trim()}`);
  }
}
