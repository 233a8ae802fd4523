// The parser built from the command table: the first error line names the real mistake (a typo,
// a stray argument, an unknown command) before any "required option", and --json makes stdout
// one JSON document even for a usage error.
import { describe, expect, test } from "bun:test";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { parseArgv, UsageError } from "../../src/cli/parse.ts";
import type { CommandSpec } from "../../src/cli/spec.ts";
import { closest } from "../../src/cli/suggest.ts";
import { runWith } from "../helpers/cli.ts";

const INIT = {
  env: { PORT_SERVER_ADDR: "127.0.0.1:1" },
  cwd: "/nonexistent",
  home: "/nonexistent",
};

/** The parser's error for argv (fails the test when argv parses). */
function refusal(argv: string[]): string {
  try {
    parseArgv(argv, COMMANDS);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

describe("typos are named before 'required option'", () => {
  test.each([
    [["allocate", "--servce", "web"], "unknown option '--servce' (did you mean --service?)"],
    [["check", "--prot", "3000"], "unknown option '--prot' (did you mean --port?)"],
    [["allocate", "web"], "unexpected argument 'web' (did you mean --service web?)"],
    [["check", "3000"], "unexpected argument '3000' (did you mean --port 3000?)"],
    [["allocate", "-s", "web"], "unknown option '-s' (did you mean --service?)"],
    [["list", "--frob"], "unknown option '--frob'"],
    [["status", "now"], "unexpected argument 'now': portctl status takes no arguments"],
    [["scan", "a", "b"], "unexpected argument 'b': portctl scan takes at most 1 argument"],
    [
      ["allocate", "--port", "abc", "--servce", "x"],
      "unknown option '--servce' (did you mean --service?)",
    ],
  ])("%j", (argv, line) => {
    expect(refusal(argv as string[])).toBe(line as string);
  });

  test("then bad values, then what is missing", () => {
    expect(refusal(["allocate", "--port", "abc"])).toBe(
      "invalid value 'abc' for --port: must be an integer between 0 and 65535",
    );
    expect(refusal(["allocate"])).toBe("required option '--service <name>' not specified");
    expect(refusal(["check", "--port"])).toBe("option '--port <number>' needs a value");
    expect(refusal(["check", "--port", "--json"])).toBe("option '--port <number>' needs a value");
    expect(refusal(["check", "--json=yes", "--port", "1"])).toBe("option '--json' takes no value");
  });

  test("what was typed is shown visibly, controls escaped", () => {
    expect(refusal(["allocate", "--service", "a\u001b[2Jb"])).toStartWith(
      "invalid value 'a\\x1b[2Jb' for --service: ",
    );
    expect(refusal(["\u001b]0;x\u0007"])).toBe("unknown command '\\x1b]0;x\\x07'");
  });
});

describe("unknown commands", () => {
  test.each([
    [["nosuch"], "unknown command 'nosuch'"],
    [["help", "nosuch"], "unknown command 'nosuch'"],
    [["alocate"], "unknown command 'alocate' (did you mean allocate?)"],
    [["help", "lsit"], "unknown command 'lsit' (did you mean list?)"],
    [["skill", "instal"], "unknown command 'instal' (did you mean install?)"],
    [["help", "skill", "frob"], "unknown command 'frob'"],
  ])("%j", (argv, line) => {
    expect(refusal(argv as string[])).toBe(line as string);
  });

  test("portctl help nosuch: one line and the hint, exit 1, no general help", async () => {
    const run = await runWith(["help", "nosuch"], INIT);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: ["error: unknown command 'nosuch'", "(run 'portctl --help' for usage)"],
    });
  });
});

describe("help", () => {
  test("help, --help and -h agree, for portctl and for a command", async () => {
    const root = await runWith(["--help"], INIT);
    expect(root.code).toBe(0);
    expect((await runWith(["help"], INIT)).out).toEqual(root.out);
    expect((await runWith(["-h"], INIT)).out).toEqual(root.out);
    const allocate = await runWith(["help", "allocate"], INIT);
    expect(allocate.code).toBe(0);
    expect(allocate.out[0]).toBe("Usage: portctl allocate [options]");
    expect((await runWith(["allocate", "--help"], INIT)).out).toEqual(allocate.out);
    // --help wins over mistakes elsewhere on the line, as a user asking for help expects.
    expect((await runWith(["allocate", "--servce", "-h"], INIT)).out).toEqual(allocate.out);
  });

  test("every flag of a command is in its help, with its placeholder", async () => {
    for (const command of leaves(COMMANDS)) {
      const run = await runWith([...command.path, "--help"], INIT);
      const help = run.out.join("\n");
      for (const [name, flag] of Object.entries(command.spec.flags ?? {}))
        expect(help).toContain(flag.value ? `--${name} ${flag.value}` : `--${name}`);
    }
  });

  test("portctl alone: the help on stderr, exit 1", async () => {
    const run = await runWith([], INIT);
    expect(run.code).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err[0]).toBe("Usage: portctl <command> [options]");
  });
});

describe("--json: stdout is one JSON document, success or failure", () => {
  test.each([
    [["allocate", "--servce", "web", "--json"]],
    [["check", "--port", "0", "--json"]],
    [["env", "--format", "dotenv", "--json"]],
  ])("%j", async (argv) => {
    const run = await runWith(argv, INIT);
    expect(run.code).toBe(1);
    const body = JSON.parse(run.out.join("\n"));
    expect(body.code).toBe("bad_request");
    expect(run.err[0]).toBe(`error: ${body.error}`);
  });

  test("env: --json is --format json, and contradicting it is refused", () => {
    const parsed = parseArgv(["env", "--json"], COMMANDS);
    expect(parsed.kind === "run" && parsed.opts.format).toBe("json");
    expect(refusal(["env", "--format", "dotenv", "--json"])).toBe(
      "--json means --format json; it cannot be combined with --format dotenv",
    );
    const same = parseArgv(["env", "--format", "json", "--json"], COMMANDS);
    expect(same.kind === "run" && same.opts.format).toBe("json");
  });
});

describe("the table", () => {
  test("every command can be reached and its handler loads", async () => {
    for (const command of leaves(COMMANDS)) {
      expect(command.spec.load).toBeDefined();
      expect(typeof (await command.spec.load?.())).toBe("function");
    }
  });

  test("names and short flags are unique", () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const { spec } of leaves(COMMANDS)) {
      const shorts = Object.values(spec.flags ?? {}).flatMap((f) => (f.short ? [f.short] : []));
      expect(new Set(shorts).size).toBe(shorts.length);
      expect(shorts).not.toContain("h");
    }
  });

  test("converted values and defaults reach the handler under camelCase keys", () => {
    const parsed = parseArgv(["allocate", "--service=web", "-q"], COMMANDS);
    expect(parsed).toMatchObject({ kind: "run", opts: { service: "web", quiet: true, port: 0 } });
    const scan = parseArgv(["scan", "--", "--odd-folder"], COMMANDS);
    expect(scan).toMatchObject({ kind: "run", opts: { dir: "--odd-folder" } });
  });
});

test("closest: a typo's distance, not another word", () => {
  expect(closest("servce", ["service", "port"])).toBe("service");
  expect(closest("prot", ["port", "app"])).toBe("port");
  expect(closest("nosuch", ["start", "stop", "status"])).toBeUndefined();
  expect(closest("x", ["app"])).toBeUndefined();
});

// --- internal ---

function leaves(table: CommandSpec[], prefix: string[] = []) {
  const out: { path: string[]; spec: CommandSpec }[] = [];
  for (const spec of table) {
    const path = [...prefix, spec.name];
    if (spec.subcommands) out.push(...leaves(spec.subcommands, path));
    else out.push({ path, spec });
  }
  return out;
}
