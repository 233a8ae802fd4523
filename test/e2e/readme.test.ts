// The front page must not rot: its tour is a transcript (commands, then `# → output`), and every
// portctl command it shows must parse with the real CLI parser. (docs/ has its own test,
// docs.test.ts, which also runs the CLI reference's transcript.)
import { describe, expect, test } from "bun:test";
import { blocks, commandLines, page, section, transcript } from "../helpers/markdown.ts";
import { parseCli } from "../helpers/parse.ts";

const README = page("README.md");

describe("README", () => {
  test("every portctl command line parses with the real CLI", () => {
    const lines = commandLines(README);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const argv of lines) expect(`${argv.join(" ")}: ${parseCli(argv)}`).toEndWith(": ok");
  });

  test("the tour: a dev server and a Compose stack in two worktrees, then list, ui, agents", () => {
    const tour = section(README, "## A five-minute tour");
    const commands = blocks(tour).flatMap((b) => transcript(b).map((s) => s.command));
    for (const shown of [
      "portctl run -- npm run dev",
      "cd ~/src/shop && portctl run -- docker compose up -d",
      "cd ~/src/shop-feature && portctl run -- docker compose up -d",
      "portctl list",
      "portctl ui",
      "portctl skill install",
      "portctl mcp install --claude",
    ])
      expect(commands).toContain(shown);
    // The tour does not start the daemon again: `make start` under Install did.
    expect(commands.filter((c) => /portctl start|make start/.test(c))).toEqual([]);
  });

  test("is a front page: about 200 lines at most", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(210);
  });
});
