// The macOS code paths, run wherever they can be. macOS has no /proc and no sock_diag: the
// daemon names a port's process with lsof, reads a process's start time (leases) and identity
// (stop, status) with ps, and knows a port is in use by binding it. The lsof and ps readers are
// run here on Linux too, against the /proc readers, on real sockets and processes this test
// makes (CI's Linux leg installs lsof; .github/workflows/ci.yml also runs everything on
// macos-latest, where the last block runs on the real thing).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { portServerExecutable } from "../../src/cli/identity.ts";
import { machineListeners } from "../../src/core/listeners.ts";
import { bindProbe, systemProbe } from "../../src/core/probe.ts";
import { systemProcesses } from "../../src/core/processes.ts";
import { startDaemon, stopAllDaemons, tempHome } from "../helpers/daemon.ts";
import { killHard } from "../helpers/processes.ts";

const MAC = process.platform === "darwin";
const LSOF = Bun.which("lsof") !== null;
if (!LSOF) {
  const line = "lsof is not installed: the lsof readers are not tested (apt-get install -y lsof)";
  if (process.env.CI === "true") throw new Error(line);
  console.log(line);
}

let listener: Bun.TCPSocketListener;
let child: Bun.Subprocess;
let spawnedAt = 0;
beforeAll(() => {
  listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  spawnedAt = Date.now();
  child = Bun.spawn(["sleep", "60"]);
});
afterAll(() => {
  listener.stop(true);
  killHard(child.pid);
});

describe.if(LSOF)("lsof: which process listens on a port", () => {
  test("the machine's listeners (the dashboard's list) include ours, with our pid", () => {
    const mine = machineListeners("darwin").find((l) => l.port === listener.port);
    expect(mine).toMatchObject({ port: listener.port, pid: process.pid });
    expect(typeof mine?.process).toBe("string");
    if (process.platform === "linux") {
      // The same answer as the Linux reader.
      const proc = machineListeners("linux").find((l) => l.port === listener.port);
      expect(proc?.pid).toBe(process.pid);
    }
  });

  test("the bind probe names the owner through lsof; a closed port is free", () => {
    const probe = bindProbe();
    expect(probe.who(listener.port)).toMatchObject({ in_use: true, pid: process.pid });
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    expect(probe.who(port)).toEqual({ in_use: false });
  });
});

describe("ps: when a process started (a lease is its pid and this time)", () => {
  test("a running child: within seconds of its spawn, and the same as /proc says on Linux", () => {
    const viaPs = systemProcesses("darwin").startTimes([child.pid]).get(child.pid);
    expect(viaPs).toBeDefined();
    // ps gives whole seconds, in local time: parsed back to the same instant.
    expect(Math.abs(Date.parse(viaPs ?? "") - spawnedAt)).toBeLessThan(3_000);
    if (process.platform === "linux") {
      const viaProc = systemProcesses("linux").startTimes([child.pid]).get(child.pid);
      expect(Math.abs(Date.parse(viaPs ?? "") - Date.parse(viaProc ?? ""))).toBeLessThan(1_500);
    }
  });

  test("a pid that is not running has no start time", async () => {
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    expect(systemProcesses("darwin").startTimes([gone.pid]).has(gone.pid)).toBe(false);
    expect(systemProcesses("darwin").startTimes([])).toEqual(new Map());
  });
});

describe.if(MAC)("on macOS itself", () => {
  afterAll(() => stopAllDaemons());

  test("the system probe binds to learn a port is in use, and lsof names the process", () => {
    const probe = systemProbe();
    expect(probe.listening()(listener.port)).toBe(true);
    expect(probe.who(listener.port)).toMatchObject({ in_use: true, pid: process.pid });
  });

  test("ps tells a port-server daemon from another program (what stop and status rely on)", async () => {
    const home = tempHome("port-server-mac-");
    try {
      const daemon = await startDaemon({ home });
      expect(portServerExecutable(daemon.pid)).toBe(true);
      expect(portServerExecutable(child.pid)).toMatch(/sleep$/);
    } finally {
      await stopAllDaemons();
      home.cleanup();
    }
  });

  test("launchd's own tool accepts the plist service install would write", () => {
    const dry = Bun.spawnSync(
      [process.execPath, `${import.meta.dir}/../../src/main.ts`, "service", "install", "--dry-run"],
      { env: { ...process.env, HOME: tempHome("port-server-plist-").root } },
    );
    const text = dry.stdout.toString();
    const plist = text.slice(text.indexOf("<?xml"), text.indexOf("</plist>") + "</plist>".length);
    expect(plist).toStartWith("<?xml");
    const file = join(tempHome("port-server-plist-").root, "port-server.plist");
    writeFileSync(file, plist);
    const lint = Bun.spawnSync(["plutil", "-lint", file]);
    expect(lint.stdout.toString()).toContain("OK");
    expect(lint.exitCode).toBe(0);
  });
});
