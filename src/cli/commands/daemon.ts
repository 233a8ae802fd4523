import { PROXY_PORT, statePaths } from "../../core/config.ts";
import { alreadyRunning } from "../../core/lockfile.ts";
import { VERSION } from "../../core/version.ts";
import { Client } from "../client.ts";
import { startDaemon, stopDaemon } from "../daemon.ts";
import { otherUserLine } from "../identity.ts";
import type { Io } from "../io.ts";
import { colors, printJson, safe } from "../output.ts";
import { inspect, removeStale, staleReason } from "../state.ts";
import { addressTaken, takenLine } from "../taken.ts";

/** Exit 0 when this call started the daemon; 1 when one was already running or it failed. */
export async function start(_opts: unknown, io: Io): Promise<number> {
  const started = await startDaemon(io);
  if (started.otherUser) {
    io.err(otherUserLine(started.otherUser, new Client(io.env).where));
    return 1;
  }
  if (!started.ours) {
    // The daemon's own words when it finds the folder taken (`… on 127.0.0.1:52130`).
    io.err(alreadyRunning(started));
    return 1;
  }
  io.out(`port-server started (pid ${safe(started.pid)})`);
  return 0;
}

export async function stop(_opts: unknown, io: Io): Promise<number> {
  const state = await inspect(io);
  if (removeStale(state)) {
    io.err(`port-server is not running (removed stale PID file: ${staleReason(state)})`);
    return 1;
  }
  if (!state.health && state.filePid === undefined) {
    io.err("port-server is not running");
    return 1;
  }
  const pid = await stopDaemon(state);
  io.out(`port-server stopped (pid ${pid})`);
  return 0;
}

/** Stop (when running) then start. */
export async function restart(_opts: unknown, io: Io): Promise<number> {
  const state = await inspect(io);
  removeStale(state);
  if (state.health || (state.filePid !== undefined && !state.stale)) {
    const pid = await stopDaemon(state);
    io.out(`port-server stopped (pid ${pid})`);
  }
  return start({}, io);
}

/** Always exit 0: reports, and cleans a stale PID file. */
export async function status(opts: { json?: boolean }, io: Io): Promise<number> {
  const state = await inspect(io);
  const cleaned = removeStale(state);
  const paths = statePaths(io.env);
  const address = new Client(io.env).base;
  const running = Boolean(state.health && !state.foreign);
  // Nothing of ours answers: is the address held by something else?
  const taken = running || state.elsewhere ? undefined : addressTaken(io.env);
  if (opts.json) {
    printJson(io, {
      running,
      ...(state.health ? { pid: state.health.pid, health: state.health, ours: running } : {}),
      ...(state.foreign && !state.otherUser ? { not_ours: state.foreign } : {}),
      ...(state.otherUser ? { other_user: state.otherUser } : {}),
      ...(state.elsewhere ? { elsewhere: state.elsewhere } : {}),
      ...(taken ? { address_taken: { ...taken.use, fix: taken.fix } } : {}),
      address,
      state_dir: paths.dir,
      log: paths.log,
      ...(cleaned ? { removed_stale_pid: state.filePid } : {}),
    });
    return 0;
  }
  const c = colors(io);
  if (cleaned) io.out(`removed stale PID file (${staleReason(state)})`);
  // Every field of the reply is whatever answers on the address: escaped before it is shown.
  if (state.otherUser) {
    io.out(otherUserLine(state.otherUser, new Client(io.env).where));
  } else if (state.health) {
    const h = state.health;
    io.out(
      state.foreign
        ? `port-server at ${address} is ${c.yellow("not this registry's daemon")} (pid ${safe(h.pid)}: ${state.foreign})`
        : `port-server is ${c.green("running")} (pid ${safe(h.pid)}, version ${safe(h.version ?? "unknown")}) at ${address}`,
    );
    if (typeof h.range === "string") io.out(`  range:   ${safe(h.range)} (auto-assign)`);
    if (Array.isArray(h.exclude) && h.exclude.length)
      io.out(`  exclude: ${safe(h.exclude.join(", "))}`);
    // The daemon's own database: it may have been started with another PORT_SERVER_HOME.
    if (typeof h.db === "string") io.out(`  db:      ${safe(h.db)}`);
    // Every URL under .localhost goes through it (doctor says how to get port 80).
    const proxy = proxyLine(h.proxy);
    if (proxy) io.out(`  names:   ${proxy}`);
    // After an upgrade the old daemon keeps running until restarted.
    if (h.version !== VERSION) {
      io.err(
        `warning: the daemon is version ${safe(h.version ?? "unknown")} but portctl is ${VERSION} — run: portctl restart`,
      );
    }
  } else if (state.elsewhere) {
    io.out(safe(alreadyRunning(state.elsewhere)));
  } else if (state.filePid !== undefined && !state.stale) {
    io.out(`port-server (pid ${state.filePid}) is ${c.yellow("not answering")} at ${address}`);
  } else if (taken) {
    io.out(`port-server is ${c.red("not running")}: ${takenLine(taken)}`);
    io.out(`  fix:     ${taken.fix}`);
  } else {
    io.out(`port-server is ${c.red("not running")} (start it with: portctl start)`);
  }
  if (state.health && state.foreign && taken) io.out(`  fix:     ${taken.fix}`);
  io.out(`  state:   ${safe(paths.dir)}`);
  io.out(`  log:     ${safe(paths.log)}`);
  return 0;
}

/** `http://NAME.localhost:2080`, `off`, or why it is not running; undefined from an older daemon. */
function proxyLine(proxy: unknown): string | undefined {
  if (typeof proxy !== "object" || proxy === null) return undefined;
  const p = proxy as { port?: unknown; setting?: unknown; note?: unknown };
  if (typeof p.port === "number" && Number.isInteger(p.port)) {
    return `http://NAME.localhost${p.port === PROXY_PORT ? "" : `:${p.port}`} (the proxy)`;
  }
  if (p.setting === "off") return "the proxy is off";
  return `the proxy is not running${typeof p.note === "string" ? `: ${safe(p.note)}` : ""} (see portctl doctor)`;
}
