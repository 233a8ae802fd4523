// 5. Start: `portctl start` (which returns once /healthz answers), then `portctl stop`, each
// time with a fresh state dir and a free port. For scale, `portctl --version` (process start
// alone) and the daemon started directly (spawn → "listening" line) are timed alongside.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanEnv,
  freePort,
  PORTCTL,
  startDaemon,
  stopPid,
  tempDir,
  timeRun,
  trackPid,
} from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";

export const start: Benchmark = {
  name: "start",
  title: "Start: portctl start until healthy",
  async run(opts: Options): Promise<Row[]> {
    const runs = opts.quick ? 5 : 15;
    const times = { start: [] as number[], stop: [] as number[], version: [] as number[] };
    const direct: number[] = [];
    for (let i = 0; i < runs; i++) {
      const home = tempDir("start");
      const env = cleanEnv({
        PORT_SERVER_HOME: home,
        HOME: home,
        PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
      });
      times.version.push((await timeRun([PORTCTL, "--version"], env)).ms);

      const up = await timeRun([PORTCTL, "start"], env);
      const pid = readPid(join(home, "port-server.pid"));
      if (pid) trackPid(pid);
      if (up.code !== 0 || !pid)
        throw new Error(`portctl start gave exit ${up.code}: ${up.stdout}`);
      const health = await fetch(`http://${env.PORT_SERVER_ADDR}/healthz`);
      if (!health.ok) throw new Error(`/healthz gave ${health.status} after portctl start`);
      times.start.push(up.ms);

      const down = await timeRun([PORTCTL, "stop"], env);
      if (down.code !== 0) throw new Error(`portctl stop gave exit ${down.code}: ${down.stdout}`);
      times.stop.push(down.ms);
      await stopPid(pid, 1000); // a no-op when stop did its job

      const t0 = performance.now();
      const daemon = await startDaemon();
      direct.push(performance.now() - t0);
      await daemon.stop();
    }
    opts.log(`  portctl start:            ${spread(times.start, "ms")}`);
    opts.log(`  portctl stop:             ${spread(times.stop, "ms")}`);
    opts.log(`  port-server → listening:  ${spread(direct, "ms")}`);
    opts.log(`  portctl --version:        ${spread(times.version, "ms")}`);
    return [
      {
        benchmark: "start",
        figure: "portctl start",
        value: median(times.start),
        unit: "ms",
        reference: { label: "portctl --version", value: median(times.version) },
        target: { on: "value", op: "<=", limit: 250 },
        notes: [
          `portctl stop ${median(times.stop).toFixed(0)} ms`,
          `port-server spawn → listening ${median(direct).toFixed(0)} ms`,
        ],
      },
    ];
  },
};

// --- internal ---

function readPid(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8").trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
