// `portctl service`: the rendered unit and plist (checked by systemd-analyze and a plist
// parser), and install/uninstall round trips in a temp HOME with systemctl/launchctl replaced
// at the process boundary by scripts that record their command lines. CI has no user bus.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parsePlist } from "plist";
import { serviceInstall, serviceStatus, serviceUninstall } from "../../src/cli/commands/service.ts";
import { servicePlan, systemServicePlan } from "../../src/cli/service/plan.ts";
import { renderUnit } from "../../src/cli/service/units.ts";
import { captureIo, freePort } from "../helpers/cli.ts";
import {
  type Daemon,
  SERVER_MAIN,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";
import { isAlive } from "../helpers/processes.ts";

const homes: TempHome[] = [];
const stubs: string[] = [];
afterEach(async () => {
  await stopAllDaemons();
  killStubDaemons();
  for (const h of homes.splice(0)) h.cleanup();
});

describe("service files", () => {
  test("the systemd unit runs the binary as port-server on the configured port, verified", () => {
    const h = home();
    const bin = fakeBinary(h.root, "with space");
    const env = {
      PORT_SERVER_HOME: join(h.root, "state 100%"),
      PORT_SERVER_ADDR: "127.0.0.1:52001",
    };
    const plan = servicePlan({ platform: "linux", env, home: h.root, uid: 1000, execPath: bin });
    expect(plan.file).toBe(join(h.root, ".config/systemd/user/port-server.service"));
    expect(plan.contents).toContain(`ExecStart="@${bin}" port-server --port 52001\n`);
    // % is a systemd specifier: doubled, or the path would change.
    expect(plan.contents).toContain(`Environment="PORT_SERVER_HOME=${h.root}/state 100%%"`);
    expect(plan.contents).toContain("Environment=PORT_SERVER_ADDR=127.0.0.1:52001");
    expect(plan.contents).not.toContain("PORT_SERVER_RANGE");
    const verify = verifyUnit(h.root, plan.contents);
    if (verify) {
      expect(verify.stderr).toBe("");
      expect(verify.code).toBe(0);
    }
  });

  test("a unit systemd cannot run is caught by the same check (the check can fail)", () => {
    const h = home();
    const contents = renderUnit({
      program: join(h.root, "missing"),
      argv0: "port-server",
      args: [],
      env: {},
      log: "",
    });
    const verify = verifyUnit(h.root, contents);
    if (verify) expect(verify.stderr).toContain("is not executable");
  });

  test("the launchd plist parses, names the program and runs it as port-server", () => {
    const h = home();
    const bin = fakeBinary(h.root, "a&b");
    const env = { PORT_SERVER_ADDR: "127.0.0.1:52002", PORT_SERVER_RANGE: "4000-4100" };
    const plan = servicePlan({ platform: "darwin", env, home: h.root, uid: 501, execPath: bin });
    expect(plan.file).toBe(join(h.root, "Library/LaunchAgents/port-server.plist"));
    const parsed = parsePlist(plan.contents) as Record<string, unknown>;
    expect(parsed).toEqual({
      Label: "port-server",
      Program: bin,
      ProgramArguments: ["port-server", "--port", "52002"],
      EnvironmentVariables: env,
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ProcessType: "Background",
      StandardOutPath: join(h.root, ".port_server/port-server.log"),
      StandardErrorPath: join(h.root, ".port_server/port-server.log"),
    });
    expect(plan.install).toEqual([["launchctl", "bootstrap", "gui/501", plan.file]]);
    expect(plan.uninstall).toEqual([["launchctl", "bootout", "gui/501/port-server"]]);
  });

  test("a port-server beside portctl is run directly", () => {
    const h = home();
    const bin = fakeBinary(h.root, "dir");
    writeFileSync(join(h.root, "dir", "port-server"), "");
    const plan = servicePlan({ platform: "linux", env: {}, home: h.root, uid: 0, execPath: bin });
    expect(plan.contents).toContain(
      `ExecStart=@${join(h.root, "dir", "port-server")} port-server --port 51234`,
    );
  });
});

describe("service install --system (#28): one registry for every user", () => {
  test("the system unit: a user of its own, state and socket in its folders, verified", () => {
    const h = home();
    const bin = fakeBinary(h.root, "bin");
    // The installing user's own state folder is not the service's.
    const env = { PORT_SERVER_HOME: join(h.root, "mine"), PORT_SERVER_ADDR: "127.0.0.1:52003" };
    const plan = systemServicePlan({ platform: "linux", env, execPath: bin });
    expect(plan.file).toBe("/etc/systemd/system/port-server.service");
    expect(plan.contents).toContain(
      `ExecStart=@${bin} port-server --port 52003 --db /var/lib/port-server/ports.db --pidfile /run/port-server/port-server.pid --socket /run/port-server/port-server.sock\n`,
    );
    for (const line of [
      "Environment=PORT_SERVER_HOME=/var/lib/port-server",
      "DynamicUser=yes",
      "User=port-server",
      "StateDirectory=port-server",
      "StateDirectoryMode=0700",
      "RuntimeDirectory=port-server",
      "RuntimeDirectoryMode=0755",
      "WantedBy=multi-user.target",
    ]) {
      expect(plan.contents.split("\n")).toContain(line);
    }
    expect(plan.contents).not.toContain(join(h.root, "mine"));
    expect(plan.install).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "port-server.service"],
    ]);
    const verify = verifyUnit(h.root, plan.contents);
    if (verify) {
      expect(verify.stderr).toBe("");
      expect(verify.code).toBe(0);
    }
  });

  test("the launchd daemon runs as _portserver in the system domain", () => {
    const h = home();
    const bin = fakeBinary(h.root, "bin");
    const plan = systemServicePlan({ platform: "darwin", env: {}, execPath: bin });
    expect(plan.file).toBe("/Library/LaunchDaemons/port-server.plist");
    const parsed = parsePlist(plan.contents) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      Label: "port-server",
      Program: bin,
      UserName: "_portserver",
      GroupName: "_portserver",
      EnvironmentVariables: { PORT_SERVER_HOME: "/usr/local/var/port-server" },
    });
    expect(parsed.ProgramArguments).toContain("/run/port-server/port-server.sock");
    expect(plan.install.at(-1)).toEqual(["launchctl", "bootstrap", "system", plan.file]);
  });

  test("--dry-run prints it without root; a real install as a user is one line, nothing written", async () => {
    const h = home();
    const io = captureIo({
      env: { ...h.env, PATH: join(h.root, "empty") },
      cwd: h.root,
      home: h.root,
    });
    expect(await serviceInstall({ dryRun: true, system: true, platform: "linux" }, io)).toBe(0);
    expect(io.stdout.join("\n")).toContain("# /etc/systemd/system/port-server.service\n");
    expect(io.stdout.join("\n")).toContain("DynamicUser=yes");
    if (process.getuid?.() === 0) return; // the refusal is for users; root would really install
    await expect(serviceInstall({ system: true, platform: "linux" }, io)).rejects.toThrow(
      "service install --system needs root: run it with sudo (--dry-run prints what it would do)",
    );
  });
});

describe("portctl service install/uninstall (systemctl stubbed)", () => {
  test("--dry-run prints the unit and the commands, and needs no systemctl", async () => {
    const h = home();
    const io = captureIo({
      env: { ...h.env, PATH: join(h.root, "empty") },
      cwd: h.root,
      home: h.root,
    });
    expect(await serviceInstall({ dryRun: true, platform: "linux" }, io)).toBe(0);
    const out = io.stdout.join("\n");
    expect(out).toContain(`# ${join(h.root, ".config/systemd/user/port-server.service")}`);
    expect(out).toContain("[Service]");
    expect(out).toContain(
      "systemctl --user daemon-reload\nsystemctl --user enable --now port-server.service",
    );
    expect(existsSync(join(h.root, ".config"))).toBe(false);
  });

  test("without systemctl, install is one line naming --dry-run, and writes nothing", async () => {
    const h = home();
    const io = captureIo({
      env: { ...h.env, PATH: join(h.root, "empty") },
      cwd: h.root,
      home: h.root,
    });
    await expect(serviceInstall({ platform: "linux" }, io)).rejects.toThrow(
      "systemctl not found: this machine has no systemd user manager; `portctl service install --dry-run` prints the file and commands",
    );
    expect(existsSync(join(h.root, ".config"))).toBe(false);
  });

  test("install hands a daemon started by hand over to systemd; uninstall removes the unit", async () => {
    const h = home();
    const manual = await startDaemon({ home: h });
    const stub = stubManager(h, "systemctl", manual);
    const io = captureIo({ env: stub.env, cwd: h.root, home: h.root });
    expect(await serviceInstall({ platform: "linux" }, io)).toBe(0);
    expect(io.stdout[0]).toBe(
      `stopped the daemon started by hand (pid ${manual.pid}); the service manager starts it now`,
    );
    expect(io.stdout[1]).toMatch(
      /^port-server service installed \(.*port-server\.service\), running \(pid \d+\)$/,
    );
    const unit = join(h.root, ".config/systemd/user/port-server.service");
    expect(readFileSync(unit, "utf8")).toContain(` --port ${manual.port}\n`);
    expect(stub.calls()).toEqual([
      "--user show-environment",
      "--user is-active port-server.service",
      "--user daemon-reload",
      "--user enable --now port-server.service",
    ]);

    const out = captureIo({ env: stub.env, cwd: h.root, home: h.root });
    expect(await serviceUninstall({ platform: "linux" }, out)).toBe(0);
    expect(existsSync(unit)).toBe(false);
    expect(stub.calls().slice(4)).toEqual([
      "--user disable --now port-server.service",
      "--user daemon-reload",
    ]);
    await expect(serviceUninstall({ platform: "linux" }, out)).rejects.toThrow(
      `port-server service is not installed (${unit})`,
    );
  }, 30_000);

  test("launchd round trip: bootstrap, then bootout", async () => {
    const h = home();
    const manual = await startDaemon({ home: h });
    const stub = stubManager(h, "launchctl", manual);
    const io = captureIo({ env: stub.env, cwd: h.root, home: h.root });
    expect(await serviceInstall({ platform: "darwin" }, io)).toBe(0);
    const file = join(h.root, "Library/LaunchAgents/port-server.plist");
    const uid = process.getuid?.() ?? 0;
    expect(stub.calls()).toEqual([
      `print gui/${uid}`,
      `print gui/${uid}/port-server`,
      `bootstrap gui/${uid} ${file}`,
    ]);
    expect(await serviceUninstall({ platform: "darwin" }, io)).toBe(0);
    expect(stub.calls()[3]).toBe(`bootout gui/${uid}/port-server`);
    expect(existsSync(file)).toBe(false);
  }, 30_000);

  test("no user bus (SSH, containers, WSL): refused before anything is touched", async () => {
    const h = home();
    const manual = await startDaemon({ home: h });
    const stub = stubManager(h, "systemctl", manual, "no-bus");
    const io = captureIo({ env: stub.env, cwd: h.root, home: h.root });
    await expect(serviceInstall({ platform: "linux" }, io)).rejects.toThrow(
      "systemctl --user cannot reach your user's service manager (Failed to connect to bus: No medium found), as in SSH sessions, containers and WSL; nothing was changed: run the daemon with portctl start, or see portctl service install --dry-run",
    );
    expect(stub.calls()).toEqual(["--user show-environment"]);
    expect(io.stdout).toEqual([]);
    expect(existsSync(join(h.root, ".config/systemd/user/port-server.service"))).toBe(false);
    expect(isAlive(manual.pid)).toBe(true);
    expect((await fetch(`${manual.url}/healthz`)).status).toBe(200);
  }, 30_000);

  test("the real systemctl, where it has no user bus (as in CI): nothing touched", async () => {
    const probe = Bun.spawnSync(["systemctl", "--user", "show-environment"], { stderr: "pipe" });
    if (!Bun.which("systemctl") || probe.exitCode === 0) {
      console.warn("skipped: no systemctl, or it reaches a user bus (it would really install)");
      return;
    }
    const h = home();
    const manual = await startDaemon({ home: h });
    const env = {
      ...h.env,
      PORT_SERVER_ADDR: `127.0.0.1:${manual.port}`,
      PATH: process.env.PATH ?? "",
    };
    const io = captureIo({ env, cwd: h.root, home: h.root });
    await expect(serviceInstall({ platform: "linux" }, io)).rejects.toThrow(
      /^systemctl --user cannot reach your user's service manager \(.+\), as in SSH sessions/,
    );
    expect(existsSync(join(h.root, ".config"))).toBe(false);
    expect(isAlive(manual.pid)).toBe(true);
  }, 30_000);

  test.each([
    [
      "enable-fails",
      "systemctl --user enable --now port-server.service failed: Failed to enable unit: Access denied",
    ],
    ["never-starts", "port-server did not answer within 5 s of being started by systemctl"],
  ] as const)(
    "%s after the hand-started daemon was stopped: it runs again, no unit file",
    async (mode, why) => {
      const h = home();
      const manual = await startDaemon({ home: h });
      const stub = stubManager(h, "systemctl", manual, mode);
      const io = captureIo({ env: stub.env, cwd: h.root, home: h.root });
      try {
        const err = await serviceInstall({ platform: "linux" }, io).catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        const message = (err as Error).message;
        expect(message).toStartWith(why);
        expect(message).toMatch(
          /; put back: no service file left, the daemon running again \(pid \d+\)$/,
        );
        expect(existsSync(join(h.root, ".config/systemd/user/port-server.service"))).toBe(false);
        // The manager was told to unload what it may have half-loaded.
        expect(stub.calls()).toContain("--user disable --now port-server.service");
        const health = (await (await fetch(`${manual.url}/healthz`)).json()) as { pid: number };
        expect(health.pid).not.toBe(manual.pid);
        expect(isAlive(health.pid)).toBe(true);
      } finally {
        captureIo({ env: stub.env, cwd: h.root, home: h.root });
        const { stop } = await import("../../src/cli/commands/daemon.ts");
        await stop({}, captureIo({ env: stub.env, cwd: h.root, home: h.root }));
      }
    },
    30_000,
  );

  test("status reports the file, the manager and the daemon", async () => {
    const h = home();
    const io = captureIo({
      env: { ...h.env, PATH: join(h.root, "empty"), PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` },
      cwd: h.root,
      home: h.root,
    });
    expect(await serviceStatus({ platform: "linux" }, io)).toBe(0);
    expect(io.stdout).toEqual([
      `service: not installed (${join(h.root, ".config/systemd/user/port-server.service")})`,
      "systemctl: not found on this machine",
      "daemon: not running",
    ]);
  });
});

// --- internal ---

function home(): TempHome {
  const h = tempHome("port-server-service-");
  homes.push(h);
  mkdirSync(join(h.root, "empty"));
  return h;
}

function fakeBinary(root: string, folder: string): string {
  mkdirSync(join(root, folder), { recursive: true });
  const bin = join(root, folder, "portctl");
  writeFileSync(bin, "#!/bin/sh\n");
  chmodSync(bin, 0o755);
  return bin;
}

function verifyUnit(root: string, contents: string): { code: number; stderr: string } | undefined {
  if (!Bun.which("systemd-analyze")) return undefined;
  const dir = join(root, "verify");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "port-server.service");
  writeFileSync(file, contents);
  const res = Bun.spawnSync(["systemd-analyze", "verify", file], {
    stderr: "pipe",
    stdout: "pipe",
  });
  return { code: res.exitCode, stderr: res.stderr.toString().trim() };
}

type StubMode = "works" | "no-bus" | "enable-fails" | "never-starts";

/** Lines put before the stub's normal behaviour. */
const STUB_MODES: Record<StubMode, string[]> = {
  works: [],
  // What systemctl --user says in an SSH session, a container or WSL: every call fails.
  "no-bus": ['echo "Failed to connect to bus: No medium found" >&2', "exit 1"],
  "enable-fails": [
    'case "$*" in *enable*|bootstrap*) echo "Failed to enable unit: Access denied" >&2; exit 1 ;; esac',
  ],
  // The manager accepts the unit but the daemon never comes up.
  "never-starts": ['case "$*" in *enable*|bootstrap*) exit 0 ;; esac'],
};

/**
 * A `systemctl`/`launchctl` on PATH that records its arguments and plays the service manager:
 * enabling/bootstrapping starts a daemon on the test daemon's port (as the manager would start
 * the unit), disabling/booting out stops it. Status queries answer "not active".
 */
function stubManager(h: TempHome, name: string, daemon: Daemon, mode: StubMode = "works") {
  const bin = join(h.root, "stub-bin");
  mkdirSync(bin, { recursive: true });
  const log = join(h.root, `${name}.calls`);
  const pidFile = join(h.root, `${name}.pid`);
  writeFileSync(log, "");
  const start = `'${process.execPath}' '${SERVER_MAIN}' --port ${daemon.port} >/dev/null 2>&1 & echo $! > '${pidFile}'`;
  writeFileSync(
    join(bin, name),
    [
      "#!/bin/sh",
      `echo "$*" >> '${log}'`,
      ...STUB_MODES[mode],
      'case "$*" in',
      "  *is-active*|print\\ gui/*/*) exit 3 ;;",
      `  *enable*|bootstrap*) ${start} ;;`,
      `  *disable*|bootout*) kill "$(cat '${pidFile}')"; rm -f '${pidFile}' ;;`,
      "esac",
      "exit 0",
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, name), 0o755);
  stubs.push(pidFile);
  return {
    env: {
      ...h.env,
      PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
    },
    calls: () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean),
  };
}

/** Daemons the stubs started and the test did not uninstall. */
function killStubDaemons(): void {
  for (const file of stubs.splice(0)) {
    if (!existsSync(file)) continue;
    try {
      process.kill(Number(readFileSync(file, "utf8").trim()), "SIGKILL");
    } catch {
      // already gone
    }
  }
}
