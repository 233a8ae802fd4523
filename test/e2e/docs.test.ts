// docs/ must not rot: the CLI reference's transcript is run against the compiled binaries and
// compared line by line, every portctl command of every page parses with the real CLI parser,
// every relative link leads to a file and heading that exist, and every page can be found from
// the front page and from `portctl --help`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { DOC_PAGES, helpLines } from "../../src/cli/help.ts";
import { DOCS_PAGE_URL, DOCS_URL } from "../../src/core/config.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { firstBindablePort, freePort } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  blocks,
  brokenLink,
  commandLines,
  normalise,
  PortMap,
  page,
  pages,
  relativeLinks,
  section,
  transcript,
} from "../helpers/markdown.ts";
import { parseCli } from "../helpers/parse.ts";

describe("docs/cli.md, allocating by hand", () => {
  let home: TempHome;
  let bin = "";
  let env: Record<string, string>;
  let cwd = "";

  beforeAll(async () => {
    bin = await builtBinaries();
    home = tempHome("port-server-docs-");
    cwd = join(home.root, "myapp");
    mkdirSync(cwd);
    env = {
      ...home.env,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
      // The page shows 3000; where 3000 is bound the first free port stands in (PortMap).
      PORT_SERVER_RANGE: `${firstBindablePort(3000)}-9999`,
    };
    const start = Bun.spawnSync([join(bin, "portctl"), "start"], { env, cwd });
    expect(start.exitCode).toBe(0);
  }, 120_000);

  afterAll(() => {
    Bun.spawnSync([join(bin, "portctl"), "stop"], { env, cwd });
    home.cleanup();
  });

  test("produces the output it shows", () => {
    const [block = ""] = blocks(section(page("docs/cli.md"), "## Allocating by hand"));
    const steps = transcript(block);
    expect(steps.length).toBeGreaterThanOrEqual(5);
    const ports = new PortMap();
    for (const step of steps) {
      const argv = ports.claim(step.command.split(/\s+/));
      expect(argv[0]).toBe("portctl");
      const res = Bun.spawnSync(argv, { env, cwd, timeout: 20_000 });
      const out = `${res.stdout}${res.stderr}`.trimEnd();
      ports.learn(/allocated port (\d+)/g, step.expected.join("\n"), out);
      expect(ports.toShown(normalise(out))).toEqual(normalise(step.expected.join("\n")));
    }
  }, 60_000);
});

describe("every page", () => {
  test("every portctl command line parses with the real CLI", () => {
    let count = 0;
    for (const [path, text] of pages()) {
      for (const argv of commandLines(text)) {
        count++;
        expect(`${path}: portctl ${argv.join(" ")}: ${parseCli(argv)}`).toEndWith(": ok");
      }
    }
    expect(count).toBeGreaterThanOrEqual(40);
  });

  test("every relative link leads to a file and a heading that exist", () => {
    const broken: string[] = [];
    let count = 0;
    for (const [path, text] of pages()) {
      for (const link of relativeLinks(path, text)) {
        count++;
        const why = brokenLink(link);
        if (why) broken.push(`${path}: (${link.target}): ${why}`);
      }
    }
    expect(broken).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(20);
  });

  test("each docs page is linked from the front page and links back to it", () => {
    const front = relativeLinks("README.md", page("README.md")).map((l) => l.target);
    for (const [path, text] of pages()) {
      if (path === "README.md") continue;
      expect(`${path}: ${front.some((t) => t.split("#")[0] === path)}`).toBe(`${path}: true`);
      expect(relativeLinks(path, text).map((l) => l.target)).toContain("../README.md");
    }
  });

  test("each command's --help ends with the page (and section) that documents it", () => {
    const wrong: string[] = [];
    for (const command of COMMANDS) {
      const last = helpLines([command], COMMANDS).at(-1) ?? "";
      const target = last.replace(`Docs: ${DOCS_PAGE_URL}/`, "");
      const [file = "", anchor] = target.split("#");
      const problem =
        last === target
          ? `no Docs: line (${last})`
          : brokenLink({ from: "docs/README.md", target: `${file}${anchor ? `#${anchor}` : ""}` });
      if (problem) wrong.push(`${command.name}: ${problem}`);
    }
    expect(wrong).toEqual([]);
    // the table names only commands that exist
    const names = new Set(COMMANDS.map((c) => c.name));
    expect(Object.keys(DOC_PAGES).filter((n) => !names.has(n))).toEqual([]);
  });

  test("portctl --help ends with the documentation's address, whose index links every page", async () => {
    const bin = await builtBinaries();
    const help = Bun.spawnSync([join(bin, "portctl"), "--help"]);
    expect(help.exitCode).toBe(0);
    const last = help.stdout.toString().trimEnd().split("\n").at(-1) ?? "";
    // GitHub shows docs/README.md at that address.
    expect(last).toStartWith(`Documentation: ${DOCS_URL} (`);
    expect(DOCS_URL).toEndWith("/tree/main/docs");
    const index = relativeLinks("docs/README.md", page("docs/README.md")).map((l) => l.target);
    for (const [path] of pages()) {
      if (path.startsWith("docs/") && path !== "docs/README.md")
        expect(index).toContain(path.slice("docs/".length));
    }
  });
});
