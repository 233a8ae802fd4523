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
    let autoPort: string | undefined;
    for (const step of steps) {
      const argv = step.command.split(/\s+/);
      const res = Bun.spawnSync([join(bin, "portctl"), ...argv.slice(1)], {
        env,
        cwd,
        timeout: 20_000,
      });
      let out = `${res.stdout}${res.stderr}`.trimEnd();
      autoPort ??= /allocated port (\d+)/.exec(out)?.[1];
      if (autoPort && autoPort !== "3000")
        out = out.replaceAll(new RegExp(`\\b${autoPort}\\b`, "g"), "3000");
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
