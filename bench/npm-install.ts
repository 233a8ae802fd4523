// npm install: `portctl version` as `npm install -g port-server` installs it (offline, from the
// `npm pack` tarballs of bin/portctl) against the release binary itself, interleaved. The
// installed command must be the native binary behind npm's bin link, with no Node in front.
import { join } from "node:path";
import { hostTarget } from "../scripts/build.ts";
import { installOffline, packMain, packPlatform } from "../scripts/npm.ts";
import { cleanEnv, PORTCTL, tempDir, timeRun } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median, spread } from "./lib/stats.ts";
import { interleaved } from "./lib/timing.ts";

export const npmInstall: Benchmark = {
  name: "npm-install",
  title: "npm-installed portctl vs the release binary",
  async run(opts: Options): Promise<Row[]> {
    const dir = tempDir("npm");
    const version = (await timeRun([PORTCTL, "version"], cleanEnv({}))).stdout.split(" ")[1] ?? "";
    const target = hostTarget();
    const tarballs = [
      await packPlatform(target, PORTCTL, version, join(dir, "dist")),
      await packMain([target], version, join(dir, "dist")),
    ];
    const prefix = join(dir, "prefix");
    installOffline({ prefix, cache: join(dir, "cache"), tarballs });

    const env = cleanEnv({});
    const commands = {
      npm: [join(prefix, "bin", "portctl"), "version"],
      release: [PORTCTL, "version"],
    };
    for (const cmd of Object.values(commands)) {
      const t = await timeRun(cmd, env);
      if (t.code !== 0 || !t.stdout.startsWith(`portctl ${version} `)) {
        throw new Error(`${cmd[0]} version gave exit ${t.code}: ${t.stdout.trim()}`);
      }
    }
    const runs = opts.quick ? 10 : 40;
    const times = await interleaved(commands, env, runs);
    opts.log(`  npm-installed portctl version: ${spread(times.npm, "ms")}`);
    opts.log(`  bin/portctl version:           ${spread(times.release, "ms")}`);
    return [
      {
        benchmark: "npm-install",
        figure: "npm-installed portctl version",
        value: median(times.npm),
        unit: "ms",
        reference: { label: "release binary", value: median(times.release) },
        target: { on: "ratio", op: "<=", limit: 1.2 },
      },
    ];
  },
};
