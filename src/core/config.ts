// Every default and environment variable of port-server lives here, and only here.
// No node:os or node:path at the top: every `portctl` loads this file, and those two modules cost
// a cold start about 1 ms; the state folder is worked out only by the commands that need it.

export const DEFAULT_PORT = 51234;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_RANGE: PortRange = { lo: 3000, hi: 32767 };
export const STATE_DIR_NAME = ".port_server";
export const DB_FILE = "ports.db";
/** The reference pages (docs/ of the repository; its README is their index), named by --help. */
export const DOCS_URL = "https://github.com/n3r/port-registry/tree/main/docs";
/** One reference page (`cli.md#allocate`) under DOCS_URL, as a command's --help names it. */
export const DOCS_PAGE_URL = "https://github.com/n3r/port-registry/blob/main/docs";
export const PID_FILE = "port-server.pid";
/** Held (flock) by the daemon of a state folder for its whole life: one daemon per folder. */
export const LOCK_FILE = "port-server.lock";
/** The daemon's Unix socket in the state folder (#28); the kernel says who connects to it. */
export const SOCKET_FILE = "port-server.sock";
/** The socket of a system service (`portctl service install --system`), for every user. */
export const SYSTEM_SOCKET = "/run/port-server/port-server.sock";
/** The system service's state folder and user. */
export const SYSTEM_STATE_DIR = "/var/lib/port-server";
export const SYSTEM_USER = "port-server";
export const LOG_FILE = "port-server.log";
/** Past this size the daemon's log is moved to `port-server.log.1` and starts again. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;

export const MAX_BODY_BYTES = 64 * 1024;
/**
 * Bun's own body cap, set far above ours so that every oversized body reaches our code and
 * gets our JSON 413: the body is streamed and reading stops at MAX_BODY_BYTES, so nothing near
 * this is ever buffered. Bun refuses only a Content-Length above 2^53 - 1 itself.
 */
export const BUN_MAX_BODY_BYTES = Number.MAX_SAFE_INTEGER;
/** `/v1/import` takes a whole registry (a few thousand rows) in one body. */
export const MAX_IMPORT_BYTES = 1024 * 1024;
export const MAX_NAME_LENGTH = 128;
/** The most ports one block (`allocate --count`, a Compose range) may hold. */
export const MAX_BLOCK = 1024;
/** PATH_MAX on Linux: the longest checkout path the registry records. */
export const MAX_PATH_LENGTH = 4096;
/** The history keeps the newest EVENTS_KEEP events and none older than EVENTS_MAX_AGE_MS. */
export const EVENTS_KEEP = 10_000;
export const EVENTS_MAX_AGE_MS = 90 * 24 * 3600 * 1000;
/** `last_seen` is written at most this often per port. */
export const LAST_SEEN_EVERY_MS = 60_000;
/** How often the daemon looks for ended leases (a lease ends within about twice this). */
export const LEASE_CHECK_MS = 1000;
/** How often the daemon reads its listener snapshot into `last_seen`. */
export const SEEN_CHECK_MS = 10_000;
/** How often the daemon trims the history. */
export const TRIM_EVERY_MS = 10 * 60_000;
export const BUSY_TIMEOUT_MS = 5000;
/** How long `portctl` waits for a TCP connect before calling the daemon unreachable. */
export const CONNECT_TIMEOUT_MS = 1000;
/** How long one API request may take before `portctl` gives up. */
export const REQUEST_TIMEOUT_MS = 15000;
/**
 * Seconds a connection may stay silent, or dribble a request, before the daemon hangs up on it
 * (slowloris). Bun's own default, declared here so that it is ours and tests can shorten it
 * (`port-server --idle-timeout`); Bun accepts 1-255.
 */
export const IDLE_TIMEOUT_S = 10;
export const MAX_IDLE_TIMEOUT_S = 255;
/** How long `portctl start` waits for /healthz, and `portctl stop` for the exit. */
export const START_TIMEOUT_MS = 5000;
export const STOP_TIMEOUT_MS = 5000;
/** While waiting for a daemon to come up: one /healthz may take this long, then ask again. */
export const HEALTH_PROBE_TIMEOUT_MS = 250;
export const HEALTH_POLL_MS = 20;
/** How many folder levels below the scanned folder `portctl scan` reads (`--depth`). */
export const SCAN_DEPTH = 4;
/** `portctl run`'s service at a repository's top folder (below it: the folder's name). */
export const RUN_DEFAULT_SERVICE = "web";
/** The service whose name is also its checkout's (`shop.localhost` for `web.shop.localhost`). */
export const MAIN_WEB_SERVICE = RUN_DEFAULT_SERVICE;
/** Every allocation's name ends in this: browsers resolve it to loopback themselves. */
export const NAME_DOMAIN = "localhost";
/** The proxy's port where the user may bind it: names without a port in the URL. */
export const PROXY_PORT = 80;
/**
 * Where the proxy listens when port 80 cannot be bound: fixed, so URLs stay the same across
 * restarts; unprivileged, outside the auto-assign range and below Linux's ephemeral ports.
 */
export const PROXY_FALLBACK_PORT = 2080;
/** A request head (request line + headers) longer than this is refused with 431. */
export const PROXY_MAX_HEAD_BYTES = 32 * 1024;
/**
 * A request whose `Via` shows it has passed this proxy this many times already is a loop (508).
 * Not once: a service may call another by its name passing on the fields it got (a dev server's
 * own proxy to API_URL does), so a legitimate request can pass twice or three times.
 */
export const PROXY_LOOP_HOPS = 8;
/**
 * Connections open through the proxy to one allocation at most; beyond, 503. It bounds a loop
 * that `Via` cannot show (a service that drops the field sends each request back to its own
 * name), far above what browsers open (six per name) and the benchmark's 32.
 */
export const PROXY_MAX_UPSTREAMS = 256;
/**
 * A request body must keep coming: never silent for the idle timeout, and each byte buys
 * 1/PROXY_BODY_MIN_RATE s of time, never more than the idle timeout ahead (slowloris on the
 * body). The clock stops while the proxy itself holds the client back (backpressure).
 */
export const PROXY_BODY_MIN_RATE = 1024;
/** How long `portctl run`'s guard waits after SIGTERM before SIGKILL, once portctl is gone. */
export const RUN_GUARD_GRACE_S = 5;
/**
 * After a signal to `portctl run`: how long the dev server's tree has to end before SIGTERM,
 * then how long before SIGKILL. Compose gets longer: it stops its containers first (10 s each
 * at most, by default), and a second signal means "force".
 */
export const RUN_STOP_GRACE_MS = 4000;
export const RUN_KILL_GRACE_MS = 2000;
export const RUN_COMPOSE_STOP_GRACE_MS = 15_000;
/**
 * `portctl run` watches which ports the dev server's tree listens on, every RUN_WATCH_POLL_MS
 * for RUN_WATCH_MS after the start, and warns once when for RUN_WATCH_SETTLE_MS it has listened
 * only on other ports than the registered one.
 */
export const RUN_WATCH_MS = 180_000;
export const RUN_WATCH_POLL_MS = 500;
export const RUN_WATCH_SETTLE_MS = 1500;
/** A Compose or `.env` file larger than this is refused by scan, not read. */
export const MAX_COMPOSE_BYTES = 2 * 1024 * 1024;
/** A Compose file's YAML nodes once aliases and merge keys are expanded: more is refused. */
export const MAX_EXPANDED_NODES = 1_000_000;
/** Aliases × nodes: the yaml package walks the document once per alias it resolves. */
export const MAX_ALIAS_WORK = 5_000_000;
/**
 * How long the daemon waits for a container engine's socket (core/engine.ts) before it names a
 * port's holder by its process alone: asked only for a port an engine's proxy listens on.
 */
export const ENGINE_TIMEOUT_MS = 1000;
/** A reply from the engine larger than this is dropped unread (a list of ~2,000 containers). */
export const ENGINE_MAX_REPLY_BYTES = 4 * 1024 * 1024;
/** The engine sockets tried, in order, after DOCKER_HOST (`~` and `$XDG_RUNTIME_DIR` expanded). */
export const ENGINE_SOCKETS = [
  "/var/run/docker.sock",
  "$XDG_RUNTIME_DIR/docker.sock",
  "$XDG_RUNTIME_DIR/podman/podman.sock",
  "/run/podman/podman.sock",
  "~/.docker/run/docker.sock",
];
/** The name `portctl mcp` has in MCP hosts' configurations and in its `initialize` answer. */
export const MCP_SERVER_NAME = "port-server";

export const ENV = {
  home: "PORT_SERVER_HOME",
  addr: "PORT_SERVER_ADDR",
  range: "PORT_SERVER_RANGE",
  exclude: "PORT_SERVER_EXCLUDE",
  /** The proxy's port: a number (0 picks a free one), or `off`. */
  proxyPort: "PORT_SERVER_PROXY_PORT",
  /** How long a session the agent hooks hold may go without a heartbeat (a duration: 4h). */
  sessionTtl: "PORT_SERVER_SESSION_TTL",
} as const;

export type Env = Record<string, string | undefined>;

export interface PortRange {
  lo: number;
  hi: number;
}

/**
 * The state directory: `$PORT_SERVER_HOME`, else `~/.port_server`. Always absolute: the daemon
 * runs in another folder, and its database path (from /healthz) is compared with ours.
 */
export function stateDir(env: Env = process.env, home?: string): string {
  const { join, resolve } = nodePath();
  const fromEnv = env[ENV.home]?.trim();
  if (fromEnv) return resolve(fromEnv);
  return resolve(join(env.HOME?.trim() || home || nodeOs().homedir(), STATE_DIR_NAME));
}

export function statePaths(env: Env = process.env) {
  const dir = stateDir(env);
  const { join } = nodePath();
  return {
    dir,
    db: join(dir, DB_FILE),
    pid: join(dir, PID_FILE),
    lock: join(dir, LOCK_FILE),
    log: join(dir, LOG_FILE),
    socket: join(dir, SOCKET_FILE),
  };
}

export interface ServerAddress {
  host: string;
  port: number;
  /** `unix:/path`: the daemon's Unix socket, which clients then talk through (host/port unused). */
  socket?: string;
}

/**
 * Parses `PORT_SERVER_ADDR` (`host:port`, `:port`, a bare port, or `unix:/absolute/path`). Only
 * loopback hosts are accepted: the daemon has no authentication of its own beyond the kernel's
 * word on who connects, so it must never be reached over a network.
 */
export function parseAddress(value: string | undefined): ServerAddress {
  const raw = value?.trim();
  if (!raw) return { host: DEFAULT_HOST, port: DEFAULT_PORT };
  if (raw.startsWith("unix:"))
    return { host: DEFAULT_HOST, port: DEFAULT_PORT, socket: socketPath(raw) };
  // [HOST:]PORT, HOST a bracketed IPv6 address or a name without colons. Split by hand: every
  // portctl call reads this, and a cold start pays for each regex it compiles.
  const colon = raw.lastIndexOf(":");
  const hostPart = colon < 0 ? "" : raw.slice(0, colon);
  const portText = raw.slice(colon + 1);
  const bracketed =
    hostPart.length > 2 &&
    hostPart.startsWith("[") &&
    hostPart.indexOf("]") === hostPart.length - 1;
  const port = isDigits(portText) ? Number(portText) : Number.NaN;
  if ((!bracketed && hostPart.includes(":")) || !isPort(port)) {
    throw new Error(`${ENV.addr} must look like 127.0.0.1:${DEFAULT_PORT} (got "${raw}")`);
  }
  const host = hostPart || DEFAULT_HOST;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
    throw new Error(
      `${ENV.addr} must name a loopback host (127.0.0.1, localhost or [::1]), got "${host}"`,
    );
  }
  // The daemon listens on 127.0.0.1 only; every loopback name reaches it there.
  return { host: DEFAULT_HOST, port };
}

/** `unix:/run/port-server.sock` → the path: absolute, and short enough for sun_path (107 bytes). */
function socketPath(raw: string): string {
  const path = raw.slice("unix:".length);
  if (!path.startsWith("/") || path.includes("\0")) {
    throw new Error(`${ENV.addr} must be unix:/absolute/path for a socket (got "${raw}")`);
  }
  if (Buffer.byteLength(path) > 107) {
    throw new Error(`${ENV.addr}: the socket path is longer than the system allows (107 bytes)`);
  }
  return path;
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses `LO-HI`; both ends 1–65535 and LO ≤ HI. */
export function parseRange(value: string): PortRange {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || !isPort(lo) || !isPort(hi)) {
    throw new Error(
      `invalid port range "${value}": expected LO-HI with ports 1-65535, e.g. 3000-32767`,
    );
  }
  if (lo > hi) throw new Error(`invalid port range "${value}": ${lo} is above ${hi}`);
  return { lo, hi };
}

/** Parses a comma-separated list of ports and ranges (`5432,6000-6100`). */
export function parseExclusions(value: string | undefined): PortRange[] {
  if (!value?.trim()) return [];
  return value.split(",").map((part) => {
    const item = part.trim();
    if (/^\d+$/.test(item)) {
      const port = Number(item);
      if (!isPort(port)) throw new Error(`invalid excluded port "${item}": expected 1-65535`);
      return { lo: port, hi: port };
    }
    return parseRange(item);
  });
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** `3000-32767`, or `5432` for a single port. */
export function formatRange(r: PortRange): string {
  return r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`;
}

// --- internal ---

function nodeOs(): typeof import("node:os") {
  return require("node:os");
}

function nodePath(): typeof import("node:path") {
  return require("node:path");
}
