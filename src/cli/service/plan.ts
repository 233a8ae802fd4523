// What `portctl service install|uninstall|status` does, as data: the file to write and the
// service manager's command lines, per platform. The command runs the plan (or, with
// --dry-run, prints it), so tests can assert the exact command lines at the process boundary.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  DB_FILE,
  DEFAULT_PORT,
  ENV,
  type Env,
  LOG_FILE,
  PID_FILE,
  parseAddress,
  SYSTEM_SOCKET,
  SYSTEM_STATE_DIR,
  SYSTEM_USER,
  statePaths,
} from "../../core/config.ts";
import {
  LAUNCHD_LABEL,
  type Platform,
  renderPlist,
  renderSystemPlist,
  renderSystemUnit,
  renderUnit,
  type ServiceSpec,
  SYSTEMD_UNIT,
  serviceFile,
} from "./units.ts";

export interface ServicePlan {
  platform: Platform;
  /** The service manager's program: systemctl or launchctl. */
  manager: "systemctl" | "launchctl";
  file: string;
  contents: string;
  install: string[][];
  uninstall: string[][];
  /** Prints whether the service is loaded/running; exit 0 when it is. */
  status: string[];
  /**
   * Exit 0 only when the manager can be talked to at all (a user bus, a GUI domain): asked
   * before anything is touched. SSH sessions, containers and WSL often have neither.
   */
  reachable: string[];
}

/** The variables a daemon reads; carried into the service when the user set them. */
const CARRIED = [ENV.home, ENV.addr, ENV.range, ENV.exclude] as const;

export function servicePlan(opts: {
  platform: Platform;
  env: Env;
  home: string;
  uid: number;
  /** The running executable (process.execPath) and, from source, the server's entry file. */
  execPath: string;
  sourceEntry?: string;
}): ServicePlan {
  const spec = serviceSpec(opts);
  const file = serviceFile(opts.platform, opts.home, opts.env.XDG_CONFIG_HOME);
  if (opts.platform === "darwin") {
    const domain = `gui/${opts.uid}`;
    return {
      platform: "darwin",
      manager: "launchctl",
      file,
      contents: renderPlist(spec),
      install: [["launchctl", "bootstrap", domain, file]],
      uninstall: [["launchctl", "bootout", `${domain}/${LAUNCHD_LABEL}`]],
      status: ["launchctl", "print", `${domain}/${LAUNCHD_LABEL}`],
      reachable: ["launchctl", "print", domain],
    };
  }
  const ctl = (...args: string[]) => ["systemctl", "--user", ...args];
  return {
    platform: "linux",
    manager: "systemctl",
    file,
    contents: renderUnit(spec),
    install: [ctl("daemon-reload"), ctl("enable", "--now", SYSTEMD_UNIT)],
    uninstall: [ctl("disable", "--now", SYSTEMD_UNIT), ctl("daemon-reload")],
    status: ctl("is-active", SYSTEMD_UNIT),
    reachable: ctl("show-environment"),
  };
}

/** Where a system service's files go, per platform. */
export const SYSTEM_FILES = {
  linux: `/etc/systemd/system/${SYSTEMD_UNIT}`,
  darwin: `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`,
} as const;

/**
 * `service install --system`: one registry for every user of the machine, run by a user of
 * its own, listening on the usual port and on a socket every user reaches (#28).
 */
export function systemServicePlan(opts: {
  platform: Platform;
  env: Env;
  execPath: string;
  sourceEntry?: string;
}): ServicePlan {
  const base = serviceSpec({ ...opts, home: SYSTEM_STATE_DIR });
  const state = opts.platform === "darwin" ? `/usr/local/var/${SYSTEM_USER}` : SYSTEM_STATE_DIR;
  const args = [
    ...base.args,
    "--db",
    join(state, DB_FILE),
    "--pidfile",
    join(dirname(SYSTEM_SOCKET), PID_FILE),
    "--socket",
    SYSTEM_SOCKET,
  ];
  // The service's own folders, not whatever PORT_SERVER_HOME the installing user had.
  const spec = { ...base, args, env: { [ENV.home]: state }, log: join(state, LOG_FILE) };
  const file = SYSTEM_FILES[opts.platform];
  if (opts.platform === "darwin") {
    const user = `_${SYSTEM_USER.replace(/-/g, "")}`;
    return {
      platform: "darwin",
      manager: "launchctl",
      file,
      contents: renderSystemPlist(spec, user),
      install: [
        ["install", "-d", "-o", user, "-m", "0700", state],
        ["install", "-d", "-o", user, "-m", "0755", dirname(SYSTEM_SOCKET)],
        ["launchctl", "bootstrap", "system", file],
      ],
      uninstall: [["launchctl", "bootout", `system/${LAUNCHD_LABEL}`]],
      status: ["launchctl", "print", `system/${LAUNCHD_LABEL}`],
      reachable: ["launchctl", "print", "system"],
    };
  }
  return {
    platform: "linux",
    manager: "systemctl",
    file,
    contents: renderSystemUnit(spec, SYSTEM_USER),
    install: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", SYSTEMD_UNIT],
    ],
    uninstall: [
      ["systemctl", "disable", "--now", SYSTEMD_UNIT],
      ["systemctl", "daemon-reload"],
    ],
    status: ["systemctl", "is-active", SYSTEMD_UNIT],
    reachable: ["systemctl", "show-environment"],
  };
}

// --- internal ---

function serviceSpec(opts: {
  env: Env;
  home: string;
  execPath: string;
  sourceEntry?: string;
}): ServiceSpec {
  const { port } = parseAddress(opts.env[ENV.addr]);
  const env: Record<string, string> = {};
  for (const name of CARRIED) {
    const value = opts.env[name];
    // The state folder is made absolute: the service manager does not start in this folder.
    if (value) env[name] = name === ENV.home ? resolve(value) : value;
  }
  const portArgs = ["--port", String(port || DEFAULT_PORT)];
  const log = statePaths({ ...opts.env, HOME: opts.home }).log;
  if (opts.sourceEntry) {
    return {
      program: opts.execPath,
      argv0: "bun",
      args: [opts.sourceEntry, ...portArgs],
      env,
      log,
    };
  }
  // The `port-server` beside portctl when there is one; else this binary named port-server.
  const sibling = join(dirname(opts.execPath), "port-server");
  const program = existsSync(sibling) ? sibling : opts.execPath;
  return { program, argv0: "port-server", args: portArgs, env, log };
}
