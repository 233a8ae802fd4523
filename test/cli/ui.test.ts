// `portctl ui`: prints the dashboard's address and hands it to the system's opener (stubbed on
// PATH, at the process boundary); --no-open only prints; a stopped daemon is the usual error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture, freePort, NOT_RUNNING_LINE } from "../helpers/cli.ts";
import { waitUntil } from "../helpers/processes.ts";

let fx: CliFixture;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(() => fx.close());

describe("portctl ui", () => {
  test("--no-open prints the address and opens nothing", async () => {
    const run = await fx.run(["ui", "--no-open"], { env: { ...fx.env, PATH: "/nonexistent" } });
    expect(run).toEqual({ code: 0, out: [`${fx.daemon.url}/`], err: [] });
  });

  test("opens the address with the system's opener", async () => {
    const bin = join(fx.home.root, "opener");
    mkdirSync(bin, { recursive: true });
    const log = join(fx.home.root, "opened");
    const opener = process.platform === "darwin" ? "open" : "xdg-open";
    writeFileSync(join(bin, opener), `#!/bin/sh\necho "$@" > '${log}'\n`);
    chmodSync(join(bin, opener), 0o755);
    const run = await fx.run(["ui"], { env: { ...fx.env, PATH: `${bin}:/usr/bin:/bin` } });
    expect(run).toEqual({ code: 0, out: [`${fx.daemon.url}/`], err: [] });
    await waitUntil(() => existsSync(log) && readFileSync(log, "utf8").endsWith("\n"), 5000);
    expect(readFileSync(log, "utf8").trim()).toBe(`${fx.daemon.url}/`);
  });

  test("no daemon: the usual one line, exit 1, nothing opened", async () => {
    const env = { ...fx.env, PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` };
    const run = await fx.run(["ui", "--no-open"], { env });
    expect(run).toEqual({ code: 1, out: [], err: [NOT_RUNNING_LINE] });
  });
});
