// The README must not rot: its quick start is run against the compiled binaries and compared
// line by line, and every other portctl command it shows must parse with the real CLI parser.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { firstBindablePort, freePort } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import { parseCli } from "../helpers/parse.ts";

const README = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");

describe("README quick start", () => {
  let home: TempHome;
  let bin = "";
  let env: Record<string, string>;
  let cwd = "";

  beforeAll(async () => {
    bin = await builtBinaries();
    home = tempHome("port-server-readme-");
    cwd = join(home.root, "myapp");
    mkdirSync(cwd);
    env = {
      ...home.env,
      PATH: process.env.PATH ?? "",
      PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
      // The README shows 3000; on a machine where 3000 is bound the first free port stands in.
      PORT_SERVER_RANGE: `${firstBindablePort(3000)}-9999`,
    };
  }, 120_000);

  afterAll(() => {
    Bun.spawnSync([join(bin, "portctl"), "stop"], { env, cwd });
    home.cleanup();
  });

  test("produces the output it shows", () => {
    const steps = quickStart(section(README, "## Quick start"));
    expect(steps.length).toBeGreaterThanOrEqual(6);
    // The README's numbers → this run's: the first auto-assigned port stands for the one shown,
    // and a port the README claims (8080) is swapped for one this machine lets us bind now.
    const ports = new Map<string, string>();
    for (const step of steps) {
      const argv = step.command.split(/\s+/).map((arg, i, all) => {
        if (all[i - 1] !== "--port") return arg;
        if (!ports.has(arg)) ports.set(arg, String(standIn(Number(arg), ports)));
        return ports.get(arg) ?? arg;
      });
      const res = Bun.spawnSync([join(bin, "portctl"), ...argv.slice(1)], {
        env,
        cwd,
        timeout: 20_000,
      });
      let out = `${res.stdout}${res.stderr}`.trimEnd();
      const auto = /allocated port (\d+)/.exec(out)?.[1];
      const shown = /allocated port (\d+)/.exec(step.expected.join("\n"))?.[1];
      if (auto && shown && !ports.has(shown)) ports.set(shown, auto);
      for (const [readme, real] of ports)
        if (readme !== real) out = out.replaceAll(new RegExp(`\\b${real}\\b`, "g"), readme);
      expect(normalise(out)).toEqual(normalise(step.expected.join("\n")));
    }
  }, 60_000);
});

describe("README commands", () => {
  test("every portctl command line parses with the real CLI", async () => {
    const lines = commandLines(README);
    expect(lines.length).toBeGreaterThanOrEqual(9);
    for (const argv of lines)
      expect(`${argv.join(" ")}: ${await parseCli(argv)}`).toEndWith(": ok");
  });
});

// --- internal ---

interface Step {
  command: string;
  expected: string[];
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`${heading}\n`);
  const end = markdown.indexOf("\n## ", start + heading.length);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** `./bin/portctl …` lines of the first bash block, each with the `# → …` lines after it. */
function quickStart(text: string): Step[] {
  const block = /```bash\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
  const steps: Step[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("./bin/portctl ")) steps.push({ command: line.trim(), expected: [] });
    else if (line.startsWith("# → ")) steps[steps.length - 1]?.expected.push(line.slice(4));
  }
  return steps;
}

/**
 * A port to claim in place of the README's `port`: the first bindable one from it up (as many
 * digits, so tables keep their widths), not already standing in for another.
 */
function standIn(port: number, taken: Map<string, string>): number {
  const used = new Set(taken.values());
  let candidate = firstBindablePort(port);
  while (used.has(String(candidate))) candidate = firstBindablePort(candidate + 1);
  return candidate;
}

/** Pids and local times differ per run; trailing spaces do not matter. */
function normalise(text: string): string[] {
  return text.split("\n").map((l) =>
    l
      .replace(/pid \d+/g, "pid N")
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "TIME")
      .trimEnd(),
  );
}

/** Every `portctl …` or `./bin/portctl …` command in bash blocks, also inside `$( … )`. */
function commandLines(markdown: string): string[][] {
  const out: string[][] = [];
  for (const [, block = ""] of markdown.matchAll(/```bash\n([\s\S]*?)```/g)) {
    for (const raw of block.split("\n")) {
      // Comments and shell redirections (`> file`, `| source`) are not portctl's arguments.
      const line = raw
        .trim()
        .replace(/\s+#.*$/, "")
        .replace(/\s+[>|].*$/, "");
      const direct = /^(?:\.\/bin\/)?portctl (.*)$/.exec(line)?.[1];
      if (direct !== undefined) out.push(direct.split(/\s+/));
      for (const m of line.matchAll(/\$\((?:\.\/bin\/)?portctl ([^)]*)\)/g))
        out.push((m[1] ?? "").split(/\s+/));
    }
  }
  return out;
}
