// `portctl doctor`'s names-proxy check: which port the proxy listens on and why, and, where it
// is not 80, the one-time step that lets it take 80 without running anything as root every day.
// The step is printed for the user to run; doctor never runs it.
import { ENV, PROXY_PORT } from "../../core/config.ts";
import type { Health } from "../client.ts";
import type { Check } from "./checks.ts";

interface ProxyState {
  port: number | null;
  setting: "auto" | "off" | number;
  note?: string;
}

/** undefined when no daemon answered (the daemon check says so). */
export function proxyCheck(
  health: Health | undefined,
  platform = process.platform,
): Check | undefined {
  if (!health) return undefined;
  const proxy = health.proxy as ProxyState | undefined;
  const name = "names proxy";
  if (!proxy) {
    return {
      name,
      status: "warn",
      message: "the daemon is older than names under .localhost",
      fix: "portctl restart",
    };
  }
  if (proxy.port === null) {
    if (proxy.setting === "off") {
      return {
        name,
        status: "warn",
        message: `turned off (${ENV.proxyPort}=off): no URLs under .localhost`,
      };
    }
    return {
      name,
      status: "fail",
      message: `not running: ${proxy.note ?? "it could not listen"}`,
      fix: `free that port, or set ${ENV.proxyPort} to a free port, then portctl restart`,
    };
  }
  const where = `http://NAME.localhost${proxy.port === PROXY_PORT ? "" : `:${proxy.port}`}`;
  if (proxy.port === PROXY_PORT) {
    return { name, status: "ok", message: `on port ${PROXY_PORT} (127.0.0.1 and ::1): ${where}` };
  }
  const why = proxy.setting === "auto" && proxy.note ? ` because ${proxy.note}` : "";
  return {
    name,
    status: "ok",
    message: `on port ${proxy.port}${why}: URLs are ${where}${proxy.setting === "auto" ? port80Hint(platform) : ""}`,
  };
}

// --- internal ---

/** The one-time ways to let an ordinary user's daemon bind port 80 on Linux. */
function port80Hint(platform: string): string {
  if (platform !== "linux") return "";
  return [
    "; to get port 80 without root every day, once:",
    `sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v port-server)")" (again after each upgrade),`,
    "or let every program bind ports from 80: echo net.ipv4.ip_unprivileged_port_start=80 | sudo tee /etc/sysctl.d/50-port-server.conf && sudo sysctl --system;",
    "then portctl restart",
  ].join(" ");
}
