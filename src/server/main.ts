// The `port-server` daemon entry: flags → store → HTTP listener → PID file, and an orderly
// shutdown on SIGTERM/SIGINT. The only module that owns the daemon's process lifecycle.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { Allocator } from "../core/allocator.ts";
import {
  BUN_MAX_BODY_BYTES,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RANGE,
  ENV,
  formatRange,
  IDLE_TIMEOUT_S,
  MAX_IDLE_TIMEOUT_S,
  parseExclusions,
  parseRange,
  statePaths,
} from "../core/config.ts";
import { systemProbe } from "../core/probe.ts";
import { systemProcesses } from "../core/processes.ts";
import { Store } from "../core/store.ts";
import { Upkeep } from "../core/upkeep.ts";
import { versionLine } from "../core/version.ts";
import { createApp } from "./app.ts";

export async function serverMain(argv: string[]): Promise<void> {
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
  await run(opts);
}

export interface ServerOptions {
  port: number;
  db: string;
  pidfile: string;
  range: ReturnType<typeof parseRange>;
  exclude: ReturnType<typeof parseExclusions>;
  /** Seconds before a silent or dribbling connection is closed. */
  idleTimeout: number;
  help: boolean;
  version: boolean;
}

export function parseFlags(argv: string[], env = process.env): ServerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      db: { type: "string" },
      pidfile: { type: "string" },
      range: { type: "string" },
      "idle-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
    strict: true,
    allowPositionals: false,
  });
  const paths = statePaths(env);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? "0") || !Number.isInteger(port) || port < 0 || port > 65535) {
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
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

// --- internal ---

async function run(opts: ServerOptions): Promise<void> {
  let store: Store;
  try {
    mkdirSync(dirname(opts.db), { recursive: true, mode: 0o700 });
    store = new Store(opts.db);
  } catch (err) {
    fail((err as Error).message);
  }
  const probe = systemProbe();
  const processes = systemProcesses();
  const allocator = new Allocator({
    store,
    probe,
    processes,
    range: opts.range,
    exclude: opts.exclude,
  });
  const upkeep = new Upkeep({ store, probe, processes, log: (m) => console.error(m) });
  let boundPort = opts.port;
  const app = createApp({ store, allocator, probe, port: () => boundPort });
  let server: ReturnType<typeof Bun.serve>;
  try {
    // 127.0.0.1 only: the API has no authentication.
    server = Bun.serve({
      hostname: DEFAULT_HOST,
      port: opts.port,
      fetch: app.fetch,
      reusePort: false,
      // Far above our 64 KiB, which guards.ts enforces while reading, with a JSON 413.
      maxRequestBodySize: BUN_MAX_BODY_BYTES,
      idleTimeout: opts.idleTimeout,
      development: false,
    });
  } catch (err) {
    store.close();
    const code = (err as { code?: string }).code;
    fail(
      code === "EADDRINUSE"
        ? `port ${opts.port} is already in use`
        : `cannot listen: ${(err as Error).message}`,
    );
  }
  boundPort = server.port ?? opts.port;
  writePidFile(opts.pidfile);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`port-server ${process.pid} received ${signal}, finishing in-flight requests`);
    await server.stop(false);
    upkeep.stop();
    store.close();
    removePidFile(opts.pidfile);
    console.log(`port-server ${process.pid} stopped`);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // Announced only once the handlers are in: a SIGTERM right after this line is an orderly stop.
  console.log(
    `port-server ${process.pid} listening on http://${DEFAULT_HOST}:${boundPort} (db ${opts.db}, range ${formatRange(opts.range)})`,
  );
  upkeep.start();
}

/** Written only once the port is ours, atomically, so a reader never sees a partial PID. */
function writePidFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Removes the PID file only if it is still ours (a later daemon may have replaced it). */
function removePidFile(path: string): void {
  try {
    if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path);
  } catch {
    // already gone
  }
}

function parseIdleTimeout(value: string | undefined): number {
  if (value === undefined) return IDLE_TIMEOUT_S;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_IDLE_TIMEOUT_S) {
    throw new Error(`invalid --idle-timeout "${value}": expected 1-${MAX_IDLE_TIMEOUT_S} seconds`);
  }
  return n;
}

/** Prefixes a setting's parse error with where the value came from. */
function named<T>(source: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}

function fail(message: string, code = 1): never {
  console.error(`port-server: ${message}`);
  process.exit(code);
}

const HELP = `port-server — the local port registry daemon

Usage: port-server [flags]

Flags:
  --port N          port to listen on, on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  --db PATH         SQLite database (default $${ENV.home}/ports.db, else ~/.port_server/ports.db)
  --pidfile PATH    PID file (default $${ENV.home}/port-server.pid)
  --range LO-HI     auto-assign range (default ${formatRange(DEFAULT_RANGE)}; env ${ENV.range})
  --idle-timeout S  close a connection silent or dribbling for S seconds (default ${IDLE_TIMEOUT_S})
  -h, --help        show this help
  -v, --version     show version, commit and build date

Environment:
  ${ENV.home}     state directory (default ~/.port_server)
  ${ENV.range}    auto-assign range, overridden by --range
  ${ENV.exclude}  ports and ranges auto-assign never hands out, e.g. 5432,8000-8100

Usually started with \`portctl start\`, which runs it in the background.`;

if (import.meta.main) await serverMain(process.argv.slice(2));
