// The daemon's flags and their defaults (from core/config.ts), and its --help text.
import { parseArgs } from "node:util";
import {
  DB_FILE,
  DEFAULT_PORT,
  DEFAULT_RANGE,
  ENV,
  formatRange,
  IDLE_TIMEOUT_S,
  isPort,
  LOG_MAX_BYTES,
  MAX_IDLE_TIMEOUT_S,
  PID_FILE,
  PROXY_FALLBACK_PORT,
  PROXY_PORT,
  parseAddress,
  parseExclusions,
  parseRange,
  SOCKET_FILE,
  STATE_DIR_NAME,
  statePaths,
} from "../core/config.ts";
import type { ProxyPortSetting } from "./proxy/listener.ts";

export interface ServerOptions {
  port: number;
  db: string;
  pidfile: string;
  range: ReturnType<typeof parseRange>;
  exclude: ReturnType<typeof parseExclusions>;
  /** Seconds before a silent or dribbling connection is closed. */
  idleTimeout: number;
  /** The proxy's port (server/proxy/): auto (80, else the fallback), a number, or off. */
  proxyPort: ProxyPortSetting;
  /** The file stdout/stderr go to (portctl start opens it), rotated past LOG_MAX_BYTES. */
  log?: string;
  /** The Unix socket; `explicit` when asked for (then failing to make it is fatal). */
  socket?: { path: string; explicit: boolean };
  help: boolean;
  version: boolean;
}

export function parseFlags(argv: string[], env = process.env): ServerOptions {
  const { values } = parseArgs({
    // -V as portctl takes it (one binary, two names); -v kept for those who used it.
    args: argv.map((a) => (a === "-v" ? "-V" : a)),
    options: {
      port: { type: "string" },
      db: { type: "string" },
      pidfile: { type: "string" },
      range: { type: "string" },
      "idle-timeout": { type: "string" },
      "proxy-port": { type: "string" },
      log: { type: "string" },
      socket: { type: "string" },
      "no-socket": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    strict: true,
    allowPositionals: false,
  });
  const paths = statePaths(env);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? "0") || !(port === 0 || isPort(port))) {
    throw new Error(`invalid --port "${values.port}": expected 0-65535 (0 picks a free port)`);
  }
  const rangeText = values.range ?? env[ENV.range];
  return {
    port,
    db: values.db ?? paths.db,
    pidfile: values.pidfile ?? paths.pid,
    range: rangeText
      ? named(values.range ? "--range" : ENV.range, () => parseRange(rangeText))
      : DEFAULT_RANGE,
    exclude: named(ENV.exclude, () => parseExclusions(env[ENV.exclude])),
    idleTimeout: parseIdleTimeout(values["idle-timeout"]),
    proxyPort: named(values["proxy-port"] !== undefined ? "--proxy-port" : ENV.proxyPort, () =>
      parseProxyPort(values["proxy-port"] ?? env[ENV.proxyPort]),
    ),
    ...(values.log ? { log: values.log } : {}),
    ...socketOption(values.socket, values["no-socket"] ?? false, env, paths.socket),
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

export const HELP = `port-server — the local port registry daemon

Usage: port-server [flags]

Flags:
  --port N          port to listen on, on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  --db PATH         SQLite database (default $${ENV.home}/${DB_FILE}, else ~/${STATE_DIR_NAME}/${DB_FILE})
  --pidfile PATH    PID file (default $${ENV.home}/${PID_FILE})
  --range LO-HI     auto-assign range (default ${formatRange(DEFAULT_RANGE)}; env ${ENV.range})
  --idle-timeout S  close a connection silent or dribbling for S seconds (default ${IDLE_TIMEOUT_S})
  --proxy-port P    the .localhost proxy's port: auto (${PROXY_PORT} where it may be bound, else ${PROXY_FALLBACK_PORT};
                    the default), a port (0 picks a free one), or off; env ${ENV.proxyPort}
  --log PATH        the file stdout and stderr go to: moved to PATH.1 past ${LOG_MAX_BYTES / 1024 / 1024} MB
  --socket PATH     the Unix socket, too (default ${ENV.addr}'s unix:PATH, else $${ENV.home}/${SOCKET_FILE})
  --no-socket       TCP only
  -h, --help        show this help
  -V, --version     show version, commit and build date

Environment:
  ${ENV.home}     state directory (default ~/${STATE_DIR_NAME})
  ${ENV.range}    auto-assign range, overridden by --range
  ${ENV.exclude}  ports and ranges auto-assign never hands out, e.g. 5432,8000-8100
  ${ENV.proxyPort}  the proxy's port, overridden by --proxy-port

Usually started with \`portctl start\`, which runs it in the background.`;

// --- internal ---

function parseIdleTimeout(value: string | undefined): number {
  if (value === undefined) return IDLE_TIMEOUT_S;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_IDLE_TIMEOUT_S) {
    throw new Error(`invalid --idle-timeout "${value}": expected 1-${MAX_IDLE_TIMEOUT_S} seconds`);
  }
  return n;
}

function parseProxyPort(value: string | undefined): ProxyPortSetting {
  const text = value?.trim().toLowerCase();
  if (!text || text === "auto") return "auto";
  if (text === "off") return "off";
  const n = Number(text);
  if (!/^\d+$/.test(text) || !(n === 0 || isPort(n))) {
    throw new Error(`invalid proxy port "${value}": expected auto, off or 0-65535`);
  }
  return n;
}

function socketOption(
  flag: string | undefined,
  none: boolean,
  env: NodeJS.ProcessEnv,
  fallback: string,
): { socket?: { path: string; explicit: boolean } } {
  if (none) {
    if (flag !== undefined) throw new Error("--socket and --no-socket contradict each other");
    return {};
  }
  if (flag !== undefined) {
    const path = named("--socket", () => parseAddress(`unix:${flag}`).socket as string);
    return { socket: { path, explicit: true } };
  }
  const fromEnv = named(ENV.addr, () => parseAddress(env[ENV.addr]).socket);
  return {
    socket: fromEnv ? { path: fromEnv, explicit: true } : { path: fallback, explicit: false },
  };
}

/** Prefixes a setting's parse error with where the value came from. */
function named<T>(source: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}
