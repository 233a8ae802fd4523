// The README a release ships (npm package, archives): its relative links would point nowhere
// there, so each becomes the same file at the release's tag — and still names a real file.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { publishedReadme, REPOSITORY } from "../../scripts/readme.ts";

const ROOT = join(import.meta.dir, "../..");
const RAW = "https://raw.githubusercontent.com/n3r/port-registry/v1.2.3/";
const BLOB = `${REPOSITORY}/blob/v1.2.3/`;

describe("publishedReadme", () => {
  test("relative links and images point at the tag; anchors, absolute paths and URLs stay", () => {
    const text = [
      "See [the CLI](docs/cli.md#run) and [arch](./ARCHITECTURE.md 'title').",
      "![dashboard](docs/dashboard.png)",
      "[top](#install) [site](https://example.com/x) [mail](mailto:a@b.c) [abs](/docs/x.md)",
    ].join("\n");
    expect(publishedReadme("1.2.3", text)).toBe(
      [
        `See [the CLI](${BLOB}docs/cli.md#run) and [arch](${BLOB}ARCHITECTURE.md 'title').`,
        `![dashboard](${RAW}docs/dashboard.png)`,
        "[top](#install) [site](https://example.com/x) [mail](mailto:a@b.c) [abs](/docs/x.md)",
      ].join("\n"),
    );
  });

  test("the real README: no relative link is left, and each rewritten one names a file here", () => {
    const out = publishedReadme("1.2.3");
    const targets = [...out.matchAll(/\]\(([^)\s]+)/g)].map((m) => m[1] ?? "");
    const relative = targets.filter((t) => !/^(https?:|mailto:|#)/.test(t));
    expect(relative).toEqual([]);
    const ours = targets.filter((t) => t.startsWith(BLOB) || t.startsWith(RAW));
    expect(ours.length).toBeGreaterThan(10);
    for (const target of ours) {
      const path = target.replace(BLOB, "").replace(RAW, "").replace(/#.*$/, "");
      expect({ target, exists: existsSync(join(ROOT, path)) }).toEqual({ target, exists: true });
    }
    // nothing but the links changed
    const strip = (s: string) => s.replace(/\]\([^)\s]+/g, "](");
    expect(strip(out)).toBe(strip(readFileSync(join(ROOT, "README.md"), "utf8")));
  });
});
