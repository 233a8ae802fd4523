// The login-service files that bring the daemon back after a reboot: a systemd user unit on
// Linux and a launchd agent on macOS. Both run the installed binary by its absolute path under
// the name `port-server` (the binary picks its role from argv[0]) on the configured port, with
// the port-server variables the user had set carried over. Rendering is pure: tests read it.
import { join } from "node:path";

const SERVICE_NAME = "port-server";
export const SYSTEMD_UNIT = `${SERVICE_NAME}.service`;
/** launchd labels are conventionally reverse-DNS; ours has no domain to reverse. */
export const LAUNCHD_LABEL = SERVICE_NAME;

export interface ServiceSpec {
  /** The executable to run, absolute. */
  program: string;
  /** argv[0] for it: `port-server` when `program` is the shared binary under another name. */
  argv0: string;
  /** Arguments after argv[0] (e.g. a source entry point, then `--port N`). */
  args: string[];
  /** PORT_SERVER_* variables carried over (only those the user set). */
  env: Record<string, string>;
  /** Where launchd appends the daemon's output (systemd keeps it in the journal). */
  log: string;
}

export type Platform = "linux" | "darwin";

/** Where each service manager looks for a user's service file. */
export function serviceFile(platform: Platform, home: string, xdgConfig?: string): string {
  if (platform === "darwin") return join(home, "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  return join(xdgConfig || join(home, ".config"), "systemd", "user", SYSTEMD_UNIT);
}

export function renderUnit(spec: ServiceSpec): string {
  // `@program argv0 args…`: systemd runs `program` with `argv0` as argv[0].
  const exec = [`@${spec.program}`, spec.argv0, ...spec.args].map(systemdQuote).join(" ");
  const env = Object.entries(spec.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`);
  return [
    "# Written by `portctl service install`; remove with `portctl service uninstall`.",
    "[Unit]",
    "Description=port-server, the local port registry (portctl)",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    ...env,
    // SIGTERM lets in-flight requests finish and removes the PID file; exit 0 is a clean stop.
    "KillSignal=SIGTERM",
    "TimeoutStopSec=15",
    "Restart=on-failure",
    "RestartSec=2",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

export function renderPlist(spec: ServiceSpec): string {
  const args = [spec.argv0, ...spec.args].map((a) => `    <string>${xml(a)}</string>`);
  const env = Object.entries(spec.env).flatMap(([k, v]) => [
    `    <key>${xml(k)}</key>`,
    `    <string>${xml(v)}</string>`,
  ]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- Written by `portctl service install`; remove with `portctl service uninstall`. -->",
    '<plist version="1.0">',
    "<dict>",
    "  <key>Label</key>",
    `  <string>${xml(LAUNCHD_LABEL)}</string>`,
    "  <key>Program</key>",
    `  <string>${xml(spec.program)}</string>`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...args,
    "  </array>",
    "  <key>EnvironmentVariables</key>",
    "  <dict>",
    ...env,
    "  </dict>",
    "  <key>RunAtLoad</key>",
    "  <true/>",
    // Restart after a crash, not after a clean `launchctl bootout` or SIGTERM (exit 0).
    "  <key>KeepAlive</key>",
    "  <dict>",
    "    <key>SuccessfulExit</key>",
    "    <false/>",
    "  </dict>",
    "  <key>ProcessType</key>",
    "  <string>Background</string>",
    "  <key>StandardOutPath</key>",
    `  <string>${xml(spec.log)}</string>`,
    "  <key>StandardErrorPath</key>",
    `  <string>${xml(spec.log)}</string>`,
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}

/**
 * The system service of a shared machine (#28): one registry for every user, run by a user of
 * its own (systemd's DynamicUser: no account to create, nothing else runs as it), its state in
 * /var/lib/port-server and its socket in /run/port-server, open to every local user; the
 * kernel tells the daemon who each of them is.
 */
export function renderSystemUnit(spec: ServiceSpec, user: string): string {
  const exec = [`@${spec.program}`, spec.argv0, ...spec.args].map(systemdQuote).join(" ");
  const env = Object.entries(spec.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`);
  return [
    "# Written by `portctl service install --system`; remove with `portctl service uninstall --system`.",
    "[Unit]",
    "Description=port-server, this machine's port registry (every user's allocations)",
    "After=network.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    ...env,
    "DynamicUser=yes",
    `User=${user}`,
    `Group=${user}`,
    `StateDirectory=${user}`,
    "StateDirectoryMode=0700",
    `RuntimeDirectory=${user}`,
    // Every local user reaches the socket; the daemon asks the kernel who connected.
    "RuntimeDirectoryMode=0755",
    "KillSignal=SIGTERM",
    "TimeoutStopSec=15",
    "Restart=on-failure",
    "RestartSec=2",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    // Read-only, not hidden: prune looks whether a checkout folder still exists.
    "ProtectHome=read-only",
    "PrivateTmp=yes",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * The launchd daemon of a shared Mac: in the system domain, run as `user` (which must exist:
 * `portctl service install --system` says how to make it), state and socket in its folders.
 */
export function renderSystemPlist(spec: ServiceSpec, user: string): string {
  // An XML comment may not hold "--": the flag is named in words.
  return renderPlist(spec)
    .replace("portctl service install`", "sudo portctl service install` (system)")
    .replace("portctl service uninstall`", "sudo portctl service uninstall` (system)")
    .replace(
      "  <key>RunAtLoad</key>",
      [
        "  <key>UserName</key>",
        `  <string>${xml(user)}</string>`,
        "  <key>GroupName</key>",
        `  <string>${xml(user)}</string>`,
        "  <key>RunAtLoad</key>",
      ].join("\n"),
    );
}

// --- internal ---

/** systemd's quoting: double quotes, with `\`, `"` escaped and `%` doubled (specifiers). */
function systemdQuote(value: string): string {
  const escaped = value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, "%%");
  return /[\s"\\']/.test(value) || value === "" ? `"${escaped}"` : escaped;
}

function xml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
