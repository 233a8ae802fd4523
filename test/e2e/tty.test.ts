// On a real terminal (a pty from util-linux's `script`), stderr carries only our own colours:
// Bun's console.error would paint every stderr line red, warnings and notes included.
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { tempHome } from "../helpers/daemon.ts";

let bin = "";
beforeAll(async () => {
  bin = await builtBinaries();
}, 120_000);

test("an error line on a terminal: `error:` in red, the message in the terminal's colour", () => {
  if (!Bun.which("script")) {
    console.log("script (util-linux) is not installed: skipped");
    return;
  }
  const home = tempHome();
  try {
    const env = {
      ...home.env,
      PATH: process.env.PATH ?? "",
      PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
      TERM: "xterm",
    };
    const cmd = `${join(bin, "portctl")} allocate --servce web`;
    const res = Bun.spawnSync(["script", "-qec", cmd, "/dev/null"], {
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = res.stdout.toString();
    expect(out).toStartWith(
      "\u001b[31merror:\u001b[39m unknown option '--servce' (did you mean --service?)",
    );
    expect(out).not.toContain("\u001b[0m\u001b[31m");
  } finally {
    home.cleanup();
  }
}, 30_000);
