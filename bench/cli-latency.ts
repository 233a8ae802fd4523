// 1. CLI latency: `portctl check --port N` for a free N (the common check), against the floor
// (bench/floor-client.ts, compiled: one fetch of the same URL, printed) and `curl` fetching the
// same URL, interleaved so that noise hits all alike. `portctl --version` (no request at all) is
// timed alongside: the gap between it and the floor is our own start-up.
import { floorClient } from "./lib/floor.ts";
import { cleanEnv, freePort, PORTCTL, startDaemon, timeRun } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";
import { interleaved } from "./lib/timing.ts";

export const cliLatency: Benchmark = {
  name: "cli-latency",
  title: "CLI latency: portctl check vs the compiled-Bun floor and curl",
  async run(opts: Options): Promise<Row[]> {
    if (!Bun.which("curl")) throw new Error("curl is not installed");
    const floor = await floorClient();
    const daemon = await startDaemon();
    try {
      const port = freePort();
      const url = `${daemon.url}/v1/ports/${port}`;
      const env = cleanEnv({ PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` });
      const commands = {
        portctl: [PORTCTL, "check", "--port", String(port)],
        floor: [floor, url],
        curl: ["curl", "-s", url],
        version: [PORTCTL, "--version"],
      };
      await sanityCheck(commands, env, port);

      const runs = opts.quick ? 10 : 40;
      const times = await interleaved(commands, env, runs);
      opts.log(`  portctl check --port ${port} (free): ${spread(times.portctl, "ms")}`);
      opts.log(`  floor (compiled Bun, one fetch):  ${spread(times.floor, "ms")}`);
      opts.log(`  curl -s …/v1/ports/${port}:        ${spread(times.curl, "ms")}`);
      opts.log(`  portctl --version (no request):   ${spread(times.version, "ms")}`);
      const m = (name: Name) => median(times[name]);
      const notes = [
        `floor ÷ curl ${(m("floor") / m("curl")).toFixed(2)}×`,
        `portctl --version alone ${m("version").toFixed(1)} ms`,
      ];
      const row = (label: string, value: number, limit: number): Row => ({
        benchmark: "cli-latency",
        figure: "portctl check, free N",
        value: m("portctl"),
        unit: "ms",
        reference: { label, value },
        target: { on: "ratio", op: "<=", limit },
        notes,
      });
      return [row("floor", m("floor"), 1.25), row("curl", m("curl"), 1.0)];
    } finally {
      await daemon.stop();
    }
  },
};

// --- internal ---

type Name = "portctl" | "floor" | "curl" | "version";

/** Every command must really answer about the port, or the timing means nothing. */
async function sanityCheck(
  commands: Record<Name, string[]>,
  env: Record<string, string>,
  port: number,
): Promise<void> {
  const ours = await timeRun(commands.portctl, env);
  if (ours.code !== 0 || !ours.stdout.includes(`port ${port} is available`)) {
    throw new Error(`portctl check gave exit ${ours.code}: ${ours.stdout.trim()}`);
  }
  for (const name of ["floor", "curl"] as const) {
    const r = await timeRun(commands[name], env);
    if (r.code !== 0 || !r.stdout.includes(`"port":${port}`)) {
      throw new Error(`${name} gave exit ${r.code}: ${r.stdout.trim()}`);
    }
  }
}
