// Bad input is refused by the parser before any request: exit 1, one error line naming the
// flag (plus the usage hint), nothing sent to a recording server, nothing changed on a daemon.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import {
  type CliFixture,
  type CliRun,
  cliFixture,
  type Recorder,
  requestRecorder,
  runWith,
} from "../helpers/cli.ts";

/** argv, and what the error line must mention. */
const BAD_INPUT: [string[], string][] = [
  [["frob"], "unknown command 'frob'"],
  [["skill", "frob"], "unknown command 'frob'"],
  [["--frob"], "unknown option '--frob'"],
  [["list", "--frob"], "unknown option '--frob'"],
  [["allocate", "--service", "web", "--port", "abc"], "--port"],
  [["allocate", "--service", "web", "--port", "65536"], "--port"],
  [["allocate", "--service", "web", "--port", "-1"], "--port"],
  [["allocate", "--service", "web", "--port", "80.5"], "--port"],
  [["allocate", "--instance", "dev"], "--service"],
  [["allocate", "--service"], "--service"],
  [["allocate", "--service", "   "], "--service"],
  [["allocate", "--service", "web", "--app", "a\tb"], "--app"],
  [["allocate", "--service", "web", "--instance", "x".repeat(129)], "--instance"],
  [["allocate", "--service", "web", "extra"], "unexpected argument 'extra'"],
  [["check", "--port", "0"], "--port"],
  [["check", "--port", "3000abc"], "--port"],
  [["check"], "--port"],
  [["release", "--id", "-3"], "--id"],
  [["release", "--id", "0"], "--id"],
  [["release", "--id", "1.5"], "--id"],
  [["release", "--port", "0"], "--port"],
  [["release", "--id", "1", "--service", "web"], "--id"],
  [["list", "--instance"], "--instance"],
];

/** Never created: refused commands must not need a home, and must not touch the real one. */
const NOWHERE = {
  HOME: join(tmpdir(), `portctl-flags-${process.pid}`),
  PORT_SERVER_HOME: join(tmpdir(), `portctl-flags-${process.pid}`, "state"),
};

const USAGE_HINT = /^\(run 'portctl ([a-z]+ )*--help' for usage\)$/;

function expectRefused(run: CliRun, mention: string): void {
  expect(run.code).toBe(1);
  expect(run.out).toEqual([]);
  const [first, ...rest] = run.err;
  expect(first).toStartWith("error: ");
  expect(first).toContain(mention);
  for (const line of rest) expect(line).toMatch(USAGE_HINT);
  expect(rest.length).toBeLessThanOrEqual(1);
}

describe("against a server that records requests", () => {
  let recorder: Recorder;
  beforeAll(() => {
    recorder = requestRecorder();
  });
  afterAll(() => recorder.stop());

  test.each(BAD_INPUT)("%j is refused before any request", async (argv, mention) => {
    const run = await runWith(argv, {
      env: { ...NOWHERE, PORT_SERVER_ADDR: `127.0.0.1:${recorder.port}` },
      cwd: NOWHERE.HOME,
      home: NOWHERE.HOME,
    });
    expectRefused(run, mention);
    expect(recorder.requests).toEqual([]);
    expect(existsSync(NOWHERE.HOME)).toBe(false);
  });

  test("a valid command does reach it (the recorder records)", async () => {
    const run = await runWith(["check", "--port", "3000"], {
      env: { ...NOWHERE, PORT_SERVER_ADDR: `127.0.0.1:${recorder.port}` },
      cwd: NOWHERE.HOME,
      home: NOWHERE.HOME,
    });
    expect(run.code).toBe(1);
    expect(recorder.requests).toEqual(["GET /v1/ports/3000"]);
    recorder.requests.length = 0;
  });
});

describe("against a real daemon", () => {
  let f: CliFixture;
  let before: Allocation[];
  beforeAll(async () => {
    f = await cliFixture("myapp");
    expect((await f.run(["allocate", "--instance", "dev", "--service", "postgres"])).code).toBe(0);
    before = await f.allocations();
  });
  afterAll(() => f.close());

  test.each(BAD_INPUT)("%j changes nothing", async (argv, mention) => {
    expectRefused(await f.run(argv), mention);
    expect(await f.allocations()).toEqual(before);
  });
});

describe("help and version", () => {
  const init = {
    env: { ...NOWHERE, PORT_SERVER_ADDR: "127.0.0.1:1" },
    cwd: NOWHERE.HOME,
    home: NOWHERE.HOME,
  };

  test("--help exits 0 and lists every command of the seed", async () => {
    const run = await runWith(["--help"], init);
    expect(run.code).toBe(0);
    const help = run.out.join("\n");
    for (const cmd of [
      "start",
      "stop",
      "restart",
      "status",
      "allocate",
      "release",
      "list",
      "check",
      "health",
      "version",
      "skill",
    ]) {
      expect(help).toMatch(new RegExp(`^  ${cmd}\\b`, "m"));
    }
  });

  test("version and --version print one line and exit 0", async () => {
    const v = await runWith(["version"], init);
    expect(v.code).toBe(0);
    expect(v.out).toHaveLength(1);
    expect(v.out[0]).toStartWith("portctl ");
    expect((await runWith(["--version"], init)).out).toEqual(v.out);
  });
});
