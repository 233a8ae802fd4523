// Messages in one voice (#25 snag 10): flag names, never the API's field names; file errors in
// words, not errno codes; an import's bad row by its number in the file; "just now" rather than
// "0 s ago"; -V and --version alike on both names of the binary. --json keeps the API's text.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ago } from "../../src/cli/output.ts";
import { ago as dashboardAgo } from "../../src/server/ui/render.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { type CliFixture, cliFixture, freePort } from "../helpers/cli.ts";

let f: CliFixture;
beforeAll(async () => {
  f = await cliFixture("myapp");
});
afterAll(() => f.close());

describe("flag names, never the API's field names", () => {
  test("history --since with a bad value", async () => {
    const run = await f.run(["history", "--since", "abc"]);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: ["error: --since must be a duration such as 30m, 3h, 1d or 2w, or an RFC 3339 time"],
    });
    // --json prints the API's error as it is.
    const json = await f.run(["history", "--since", "abc", "--json"]);
    expect(JSON.parse(json.out.join("\n")).error).toStartWith("since must be");
  });

  test("allocate --lease-pid of a process that does not run", async () => {
    const run = await f.run(["allocate", "--service", "x", "--lease-pid", "999999"]);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: ["error: --lease-pid 999999 is not a running process"],
    });
  });

  test("a message that only starts like a field is left alone", async () => {
    const port = String(freePort());
    await f.alloc("--service", "web", "--port", port);
    const run = await f.run(["allocate", "--app", "other", "--service", "web", "--port", port]);
    expect(run.err).toEqual([
      `error: port ${port} is already allocated to myapp/default/web (id=1)`,
    ]);
  });
});

describe("import", () => {
  test("a missing file in words, not ENOENT", async () => {
    const run = await f.run(["import", "nope.json"]);
    expect(run).toEqual({ code: 1, out: [], err: ["error: cannot read nope.json: no such file"] });
  });

  test("a bad row by its number in the file, counted from 1", async () => {
    const at = "2026-01-01T00:00:00Z";
    const good = { app: "a", instance: "i", service: "s", port: 45200, created_at: at };
    const bad = { app: "a", service: "t", port: 45201, created_at: at };
    writeFileSync(join(f.cwd, "bad.json"), JSON.stringify([good, bad]));
    const run = await f.run(["import", "bad.json"]);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: ["error: bad.json, row 2: instance is required"],
    });
    const json = await f.run(["import", "bad.json", "--json"]);
    expect(JSON.parse(json.out.join("\n")).error).toBe("1.instance is required");
  });
});

describe("times", () => {
  test("just now, then seconds", () => {
    const now = Date.parse("2026-01-01T00:00:10Z");
    expect(ago("2026-01-01T00:00:10Z", now)).toBe("just now");
    expect(ago("2026-01-01T00:00:07Z", now)).toBe("just now");
    expect(ago("2026-01-01T00:00:00Z", now)).toBe("10 s ago");
    expect(dashboardAgo("2026-01-01T00:00:10Z", now)).toBe("just now");
    expect(dashboardAgo("2026-01-01T00:00:00Z", now)).toBe("10 s ago");
  });
});

describe("-V and --version on both names", () => {
  test.each(["portctl", "port-server"])(
    "%s",
    async (name) => {
      const bin = join(await builtBinaries(), name);
      const outs = ["-V", "--version"].map((flag) => {
        const res = Bun.spawnSync([bin, flag]);
        expect(res.exitCode).toBe(0);
        return res.stdout.toString();
      });
      expect(outs[0]).toMatch(new RegExp(`^${name} \\d+\\.\\d+\\.\\d+ \\(commit `));
      expect(outs[1]).toBe(outs[0] ?? "");
    },
    120_000,
  );
});
