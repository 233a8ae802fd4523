// The `port-server` daemon entry: flags → state folder (ours alone, locked) → store → HTTP
// listener → PID file, and an orderly shutdown on SIGTERM/SIGINT from the very first moment.
// The only module that owns the daemon's process lifecycle.
import { dirname, join } from "node:path";
import { Allocator } from "../core/allocator.ts";
import {
  BUN_MAX_BODY_BYTES,
  DEFAULT_HOST,
  formatRange,
  LOCK_FILE,
  LOG_MAX_BYTES,
} from "../core/config.ts";
import { systemEngine } from "../core/engine.ts";
import { ensurePrivateFolder } from "../core/files.ts";
import { Owners } from "../core/owners.ts";
import { openPeerReader, type Peer, type PeerReader } from "../core/peercred.ts";
import { systemProbe } from "../core/probe.ts";
import { systemProcesses } from "../core/processes.ts";
import { Store } from "../core/store.ts";
import { Upkeep } from "../core/upkeep.ts";
import { versionLine } from "../core/version.ts";
import { createApp } from "./app.ts";
import { fromSocket, kernelIdentify } from "./caller.ts";
import { HELP, parseFlags, type ServerOptions } from "./flags.ts";
import { acquireLock, type Lock } from "./lock.ts";
import { createLog, logEvent, useLog } from "./log.ts";
import { removePidFile, writePidFile } from "./pidfile.ts";
import { type NamesProxy, startProxy } from "./proxy/listener.ts";
import { ownNames } from "./proxy/viewer.ts";
import { listenUnix, type UnixListener } from "./unix.ts";

/**
 * What a benchmark may swap, in code only (no flag or variable reaches it): bench/attribution.ts
 * runs the daemon with no kernel reader, so every TCP request counts as the daemon's own user,
 * to measure what attributing a request costs.
 */
export interface ServerSeams {
  openPeerReader?: () => PeerReader | undefined;
}

export async function serverMain(argv: string[], seams: ServerSeams = {}): Promise<void> {
  let opts: ServerOptions;
  try {
    opts = parseFlags(argv);
  } catch (err) {
    // node:util's parseArgs errors span several lines; the daemon's log wants one.
    const message = (err as Error).message.replace(/\s*\n\s*/g, " ");
    fail(`${message} (see port-server --help)`, 2);
  }
  if (opts.help) return void console.log(HELP);
  if (opts.version) return void console.log(versionLine("port-server"));
  await run(opts, seams);
}

// --- internal ---

/** What has been set up so far, so that a shutdown at any moment undoes exactly that. */
interface Running {
  lock?: Lock;
  store?: Store;
  server?: ReturnType<typeof Bun.serve>;
  proxy?: NamesProxy;
  upkeep?: Upkeep;
  pidfile?: string;
  socket?: UnixListener;
}

async function run(opts: ServerOptions, seams: ServerSeams): Promise<void> {
  const running: Running = {};
  // Handlers before anything is written: a SIGTERM during start-up is an orderly stop too
  // (start-up is synchronous, so it is handled right after), never a kill that leaves a PID
  // file behind.
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void shutdown(signal, running);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  useLog(createLog({ ...(opts.log ? { path: opts.log } : {}), maxBytes: LOG_MAX_BYTES }));

  try {
    for (const dir of new Set([dirname(opts.db), dirname(opts.pidfile)])) ensurePrivateFolder(dir);
    running.lock = acquireLock(join(dirname(opts.db), LOCK_FILE));
    running.store = new Store(opts.db);
  } catch (err) {
    fail((err as Error).message);
  }
  if (!running.lock.held) {
    logEvent("port-server: flock(2) unavailable; the listening port is the only lock");
  }
  const store = running.store;
  const probe = systemProbe();
  const processes = systemProcesses();
  const owners = new Owners(process.getuid?.() ?? 0);
  const allocator = new Allocator({
    store,
    probe,
    processes,
    range: opts.range,
    exclude: opts.exclude,
    owners,
  });
  const upkeep = new Upkeep({ store, probe, processes, log: logEvent });
  let boundPort = opts.port;
  // Before the API answers: every allocation's url names the proxy's port.
  // Who asks, from the kernel: sock_diag for TCP, SO_PEERCRED for the Unix socket.
  const reader = (seams.openPeerReader ?? openPeerReader)();
  const proxy = await startProxy({
    store,
    setting: opts.proxyPort,
    apiPort: () => boundPort,
    headTimeoutMs: opts.idleTimeout * 1000,
    visible: ownNames(store, owners, reader),
  });
  running.proxy = proxy;
  const engine = systemEngine(process.env);
  const port = () => boundPort;
  const proxied = new Map<number, Peer>();
  const app = createApp({
    store,
    allocator,
    probe,
    engine,
    port,
    proxy: proxy.status,
    owners,
    identify: kernelIdentify({
      reader,
      address: DEFAULT_HOST,
      port,
      daemonUid: owners.daemonUid,
      proxied,
    }),
    fromSocket: fromSocket(proxied),
  });
  running.server = listen(opts, app.fetch, store);
  boundPort = running.server.port ?? opts.port;
  running.socket = openSocket(opts, port, reader, proxied);
  running.lock.announce(`${DEFAULT_HOST}:${boundPort}`);
  writePidFile(opts.pidfile);
  running.pidfile = opts.pidfile;
  const socketText = running.socket ? ` and ${running.socket.path}` : "";
  console.log(
    `port-server ${process.pid} listening on http://${DEFAULT_HOST}:${boundPort}${socketText} (db ${opts.db}, range ${formatRange(opts.range)})`,
  );
  console.log(proxyLine(proxy));
  running.upkeep = upkeep;
  upkeep.start();
}

/** Bun.serve on 127.0.0.1 only (the API has no authentication); a port in use is one line. */
function listen(
  opts: ServerOptions,
  fetch: (req: Request) => Response | Promise<Response>,
  store: Store,
): ReturnType<typeof Bun.serve> {
  try {
    return Bun.serve({
      hostname: DEFAULT_HOST,
      port: opts.port,
      fetch,
      reusePort: false,
      // Far above our 64 KiB, which guards.ts enforces while reading, with a JSON 413.
      maxRequestBodySize: BUN_MAX_BODY_BYTES,
      idleTimeout: opts.idleTimeout,
      development: false,
    });
  } catch (err) {
    store.close();
    const code = (err as { code?: string }).code;
    return fail(
      code === "EADDRINUSE"
        ? `port ${opts.port} is already in use`
        : `cannot listen: ${(err as Error).message}`,
    );
  }
}

/**
 * The Unix socket beside the TCP listener. One asked for (--socket, PORT_SERVER_ADDR=unix:)
 * must be made; the default one is skipped with a line in the log when it cannot be (a state
 * folder whose path is too long for a socket), TCP still serving.
 */
function openSocket(
  opts: ServerOptions,
  port: () => number,
  reader: PeerReader | undefined,
  proxied: Map<number, Peer>,
): UnixListener | undefined {
  if (!opts.socket) return undefined;
  try {
    return listenUnix(opts.socket.path, port, reader, proxied);
  } catch (err) {
    if (opts.socket.explicit) return fail((err as Error).message);
    logEvent(`port-server: no Unix socket: ${(err as Error).message}`);
    return undefined;
  }
}

/** Finishes in-flight requests, closes the database, removes our PID file, exits 0. */
async function shutdown(signal: string, running: Running): Promise<never> {
  console.log(`port-server ${process.pid} received ${signal}, finishing in-flight requests`);
  running.socket?.stop();
  await running.server?.stop(false);
  await running.proxy?.close();
  running.upkeep?.stop();
  running.store?.close();
  if (running.pidfile) removePidFile(running.pidfile);
  running.lock?.release();
  console.log(`port-server ${process.pid} stopped`);
  process.exit(0);
}

function proxyLine({ status }: NamesProxy): string {
  if (status.port === null) return `port-server: names proxy not running (${status.note ?? "off"})`;
  const note = status.note ? ` (${status.note})` : "";
  return `port-server: names proxy on http://*.localhost:${status.port} (${status.addresses.join(", ")})${note}`;
}

function fail(message: string, code = 1): never {
  console.error(`port-server: ${message}`);
  process.exit(code);
}

if (import.meta.main) await serverMain(process.argv.slice(2));
