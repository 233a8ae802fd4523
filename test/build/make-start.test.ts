// `make start` as the README's Install shows it, run twice: the second leaves the running daemon
// as it is and exits 0 (it used to stop make with `already running`, exit 1).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { tempHome } from "../helpers/daemon.ts";

const ROOT = join(import.meta.dir, "../..");
const home = tempHome("port-server-make-start-");
const env = {
  ...home.env,
  PATH: process.env.PATH ?? "",
  PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
};
let built = "";
afterAll(() => {
  if (built) Bun.spawnSync([join(built, "portctl"), "stop"], { env });
  home.cleanup();
});

/** -o build: the binaries are already built (into BUILT); start only runs them. */
function makeStart() {
  const res = Bun.spawnSync(["make", "-s", "-o", "build", "start", `BUILT=${built}`], {
    cwd: ROOT,
    env,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  return { code: res.exitCode, out: res.stdout.toString(), err: res.stderr.toString() };
}

test("make start twice: started, then left running; exit 0 both times, one daemon", async () => {
  built = await builtBinaries();
  const first = makeStart();
  expect(first).toMatchObject({ code: 0, err: "" });
  const pid = /port-server started \(pid (\d+)\)/.exec(first.out)?.[1];
  expect(pid).toBeDefined();
  expect(first.out).toContain(`port-server is running (pid ${pid}, version `);

  const second = makeStart();
  expect(second).toMatchObject({ code: 0, err: "" });
  expect(second.out).not.toContain("started");
  expect(second.out).toStartWith(`port-server is running (pid ${pid}, version `);
}, 120_000);

test("portctl start itself still says 'already running' with exit 1", async () => {
  built ||= await builtBinaries();
  const again = Bun.spawnSync([join(built, "portctl"), "start"], { env });
  expect(again.exitCode).toBe(1);
  expect(again.stderr.toString()).toMatch(/^port-server is already running \(pid \d+\)\n$/);
});
