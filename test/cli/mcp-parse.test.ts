// `mcp` is the one group that also runs itself: `portctl mcp` serves, `portctl mcp install`
// configures a host. The parser and the help must tell the two apart from the table alone.
import { expect, test } from "bun:test";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { parseArgv } from "../../src/cli/parse.ts";
import { runWith } from "../helpers/cli.ts";

const INIT = {
  env: { PORT_SERVER_ADDR: "127.0.0.1:1" },
  cwd: "/nonexistent",
  home: "/nonexistent",
};

function names(argv: string[]) {
  const parsed = parseArgv(argv, COMMANDS);
  return { kind: parsed.kind, path: "path" in parsed ? parsed.path.map((c) => c.name) : [] };
}

test("`mcp` alone runs the server; `mcp install …` the installer", () => {
  expect(names(["mcp"])).toEqual({ kind: "run", path: ["mcp"] });
  expect(names(["mcp", "install", "--codex"])).toEqual({ kind: "run", path: ["mcp", "install"] });
  expect(parseArgv(["mcp", "install", "--codex"], COMMANDS)).toMatchObject({
    opts: { codex: true },
  });
  expect(names(["mcp", "--help"])).toEqual({ kind: "help", path: ["mcp"] });
});

test("mistakes after `mcp` are named: a misspelt subcommand, a flag it does not take", async () => {
  const typo = await runWith(["mcp", "instal"], INIT);
  expect(typo.code).toBe(1);
  expect(typo.err[0]).toContain("'instal'");
  expect(typo.err[0]).toContain("install");
  const flag = await runWith(["mcp", "--claude"], INIT);
  expect(flag.code).toBe(1);
  expect(flag.err[0]).toBe("error: unknown option '--claude'");
});

test("`portctl mcp --help` shows both usages and the subcommand", async () => {
  const help = await runWith(["mcp", "--help"], INIT);
  expect(help.code).toBe(0);
  expect(help.out.slice(0, 2)).toEqual([
    "Usage: portctl mcp [options]",
    "       portctl mcp <command> [options]",
  ]);
  expect(help.out.join("\n")).toContain("install");
});
