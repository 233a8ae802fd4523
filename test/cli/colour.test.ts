// Colour only for a terminal: never when stdout is not a TTY, with NO_COLOR set, or on a dumb
// terminal; and the coloured text, stripped, is the plain text. Also `status` in-process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Env } from "../../src/core/config.ts";
import { type CliFixture, type CliRun, cliFixture, ESC } from "../helpers/cli.ts";

let f: CliFixture;
let taken = 0;
beforeAll(async () => {
  f = await cliFixture("myapp");
  const run = await f.run(["allocate", "-q", "--instance", "dev", "--service", "postgres"]);
  taken = Number(run.out[0]);
});
afterAll(() => f.close());

/** Commands whose output a person reads; `allocate` gets a fresh service each time. */
let n = 0;
const commands = (): string[][] => [
  ["allocate", "--instance", "dev", "--service", `svc${++n}`],
  ["list"],
  ["check", "--port", String(taken)],
  ["status"],
  ["release", "--id", "99"],
];

/** Every command's stdout and stderr, keyed by its name. */
async function runAll(isTTY: boolean, extra: Env = {}): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  for (const argv of commands()) {
    const run = await f.run(argv, { isTTY, env: { ...f.env, ...extra } });
    texts[argv[0] ?? ""] = [...run.out, ...run.err].join("\n");
  }
  return texts;
}

const text = (runs: CliRun[]) => runs.flatMap((r) => [...r.out, ...r.err]).join("\n");
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

describe("no colour", () => {
  test("when stdout is not a terminal", async () => {
    const out = await runAll(false);
    expect(out.allocate).toStartWith("allocated port");
    expect(Object.values(out).filter((t) => t.includes(ESC))).toEqual([]);
  });

  test.each(["1", "0", "false"])("with NO_COLOR=%j, even on a terminal", async (value) => {
    const out = await runAll(true, { NO_COLOR: value });
    expect(out.allocate).toStartWith("allocated port");
    expect(Object.values(out).filter((t) => t.includes(ESC))).toEqual([]);
  });

  test("with TERM=dumb, even on a terminal", async () => {
    const out = await runAll(true, { TERM: "dumb" });
    expect(Object.values(out).filter((t) => t.includes(ESC))).toEqual([]);
  });

  test("for --json and -q, even on a terminal", async () => {
    const tty = { isTTY: true };
    const json = await f.run(["list", "--json"], tty);
    const quiet = await f.run(["allocate", "-q", "--service", "quiet"], tty);
    expect(text([json, quiet])).not.toContain(ESC);
    expect(quiet.out).toEqual([expect.stringMatching(/^\d+$/)]);
  });
});

describe("colour on a terminal", () => {
  test("allocate, list, check, status and errors are coloured", async () => {
    const out = await runAll(true);
    const plain = Object.entries(out).filter(([, t]) => !t.includes(ESC));
    expect(plain).toEqual([]);
    expect(Object.keys(out)).toEqual(["allocate", "list", "check", "status", "release"]);
  });

  test("stripped of escapes, the coloured text is the plain text", async () => {
    const tty = await f.run(["check", "--port", String(taken)], { isTTY: true });
    const plain = await f.run(["check", "--port", String(taken)]);
    expect(tty.out[0]).not.toBe(plain.out[0]);
    expect(tty.out.map(strip)).toEqual(plain.out);
    const ttyList = await f.run(["list", "--service", "postgres"], { isTTY: true });
    const plainList = await f.run(["list", "--service", "postgres"]);
    expect(ttyList.out.map(strip)).toEqual(plainList.out);
    const ttyErr = await f.run(["release", "--id", "99"], { isTTY: true });
    expect(ttyErr.err.map(strip)).toEqual(["error: allocation not found"]);
  });
});

describe("status", () => {
  test("names the daemon from its PID file and /healthz, and exits 0", async () => {
    const run = await f.run(["status"]);
    expect(run.code).toBe(0);
    expect(run.err).toEqual([]);
    expect(run.out[0]).toMatch(
      new RegExp(
        `^port-server is running \\(pid ${f.daemon.pid}, version .+\\) at http://127\\.0\\.0\\.1:${f.daemon.port}$`,
      ),
    );
    expect(run.out).toContain(`  state:   ${f.home.state}`);
  });

  test("--json reports running, the pid and where its files are", async () => {
    const run = await f.run(["status", "--json"]);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.out.join("\n"));
    expect(body).toMatchObject({
      running: true,
      pid: f.daemon.pid,
      address: `http://127.0.0.1:${f.daemon.port}`,
      state_dir: f.home.state,
    });
    expect(body.health).toEqual(await f.api("/healthz"));
  });
});
