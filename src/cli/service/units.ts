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
