// The registry's rows of the command table (index.ts): allocating, releasing, reading and
// scanning ports, and their history.
import { SCAN_DEPTH } from "../../core/config.ts";
import {
  ENV_FORMATS,
  FLAGS,
  parseCount,
  parseDepth,
  parseDuration,
  parseId,
  parseName,
  parsePid,
  parseSessionId,
} from "../flags.ts";
import type { CommandSpec, Flag } from "../spec.ts";

const HOOK_FLAG: Flag = {
  value: "<host>",
  choices: ["claude", "codex", "gemini"],
  help: "run as that host's hook: its JSON on stdin, never failing the session (exit 0)",
};

export const REGISTRY_COMMANDS: CommandSpec[] = [
  {
    name: "allocate",
    summary: "allocate a port for a service",
    flags: {
      app: FLAGS.app,
      instance: FLAGS.instance,
      service: { ...FLAGS.service, help: "service name (required)", required: true },
      port: FLAGS.portOrAuto,
      count: {
        value: "<n>",
        help: "a block of n contiguous ports (service, service-2, …), all or nothing, released together",
        convert: parseCount,
      },
      reuse: { help: "return the existing allocation of this service instead of failing" },
      adopt: { help: "register --port even though a process listens on it (its own server)" },
      "lease-pid": {
        value: "<pid>",
        help: "release the port when this process exits",
        convert: parsePid,
      },
      lease: { help: "release the port when the calling shell or test runner exits" },
      http: { help: "the service serves HTTP: give it a URL (http://NAME.localhost)" },
      name: {
        value: "<name>",
        help: "its name under .localhost instead of the derived one (admin.shop → admin.shop.localhost)",
      },
      "lease-session": {
        value: "<id>",
        help: "hold the port for this agent session (freed by portctl session end <id>)",
        convert: parseSessionId,
      },
      quiet: { short: "q", help: "print only the port number" },
      json: FLAGS.json,
    },
    load: () => import("./allocate.ts").then((m) => m.allocate),
  },
  {
    name: "release",
    summary: "release allocations by id, or by filter (AND-ed)",
    flags: {
      id: { value: "<number>", help: "release one allocation by id", convert: parseId },
      app: {
        ...FLAGS.app,
        help: "filter by application (default: this checkout's app and instance, unless --port)",
      },
      instance: {
        ...FLAGS.instance,
        help: "filter by instance (default: this checkout's, unless --app or --port)",
      },
      service: FLAGS.service,
      port: { ...FLAGS.port, help: "release the allocation of this port" },
      json: FLAGS.json,
    },
    load: () => import("./release.ts").then((m) => m.release),
  },
  {
    name: "list",
    summary: "list allocations of the current app (--all: every app)",
    flags: {
      app: FLAGS.app,
      instance: { value: "<name>", help: "filter by instance", convert: parseName },
      service: FLAGS.service,
      all: { help: "every app, not just the current one" },
      long: {
        short: "l",
        help: "also each allocation's URL (or name), checkout and when it last listened",
      },
      json: FLAGS.json,
    },
    load: () => import("./list.ts").then((m) => m.list),
  },
  {
    name: "url",
    summary: "print a service's URL under .localhost (through the daemon's proxy)",
    flags: {
      app: FLAGS.app,
      instance: FLAGS.instance,
      service: {
        ...FLAGS.service,
        help: "the service (default: as portctl run: web, or the folder's name below the top)",
      },
      json: FLAGS.json,
    },
    load: () => import("./url.ts").then((m) => m.url),
  },
  {
    name: "check",
    summary: "exit 0 if a port is free, 1 if it is taken",
    flags: {
      port: { ...FLAGS.port, help: "port to check (required)", required: true },
      json: FLAGS.json,
    },
    load: () => import("./check.ts").then((m) => m.check),
  },
  {
    name: "prune",
    summary: "list (--yes: release) allocations whose checkout no longer exists",
    flags: {
      yes: { help: "release them (without it, only list them)" },
      "unused-for": {
        value: "<duration>",
        help: "also those not seen listening for this long (30m, 3h, 30d, 2w)",
        convert: parseDuration,
      },
      app: { ...FLAGS.app, help: "only this application's allocations" },
      checkout: {
        value: "<dir>",
        help: "only the allocations of this checkout (a folder, which may be gone)",
      },
      json: FLAGS.json,
    },
    load: () => import("./prune.ts").then((m) => m.prune),
  },
  {
    name: "session",
    summary: "agent sessions holding ports (allocate --lease-session): end, heartbeat, list",
    subcommands: [
      {
        name: "start",
        summary:
          "allocate (reuse) the ports this project declares, held for the session in a linked worktree",
        args: [
          { name: "id", help: "the session's id (with --hook: read from stdin)", optional: true },
        ],
        flags: {
          hook: HOOK_FLAG,
          json: FLAGS.json,
        },
        load: () => import("../hooks/session.ts").then((m) => m.sessionStart),
      },
      {
        name: "end",
        summary: "release every port the session holds (none held: still exit 0)",
        args: [
          { name: "id", help: "the session's id (with --hook: read from stdin)", optional: true },
        ],
        flags: { hook: HOOK_FLAG, json: FLAGS.json },
        load: () => import("./session.ts").then((m) => m.sessionEnd),
      },
      {
        name: "heartbeat",
        summary: "keep the session alive: it ends when no heartbeat comes for --ttl",
        args: [
          { name: "id", help: "the session's id (with --hook: read from stdin)", optional: true },
        ],
        flags: {
          hook: {
            ...HOOK_FLAG,
            help: "run as that host's prompt hook: a linked worktree's session kept for PORT_SERVER_SESSION_TTL (4h); prints nothing, exit 0",
          },
          ttl: {
            value: "<duration>",
            help: "end it after this long without a heartbeat (30s, 10m, 1h; default 10m)",
            convert: parseDuration,
          },
          json: FLAGS.json,
        },
        load: () => import("./session.ts").then((m) => m.sessionHeartbeat),
      },
      {
        name: "list",
        summary: "every session, its heartbeat and the ports it holds",
        flags: { json: FLAGS.json },
        load: () => import("./session.ts").then((m) => m.sessionList),
      },
    ],
  },
  {
    name: "history",
    summary: "who had a port and when it changed, newest first",
    flags: {
      port: { ...FLAGS.port, help: "only this port" },
      app: {
        ...FLAGS.app,
        help: "only this application (default: the current one, unless --port)",
      },
      all: { help: "every app, not just the current one" },
      instance: { value: "<name>", help: "only this instance", convert: parseName },
      service: FLAGS.service,
      since: {
        value: "<duration|time>",
        help: "only events since then: 30m, 3h, 1d, 2w or an RFC 3339 time",
      },
      limit: {
        value: "<n>",
        help: "at most this many events (default 1000)",
        convert: parseId,
      },
      json: FLAGS.json,
    },
    load: () => import("./history.ts").then((m) => m.history),
  },
  {
    name: "export",
    summary: "print the current app's allocations (--all: every app) as JSON, for import",
    flags: {
      app: FLAGS.app,
      all: { help: "every app, not just the current one" },
    },
    load: () => import("./backup.ts").then((m) => m.exportAllocations),
  },
  {
    name: "import",
    summary: "register the allocations of an export file, all or nothing",
    args: [{ name: "file", help: "a file written by portctl export (- for standard input)" }],
    flags: { json: FLAGS.json },
    load: () => import("./backup.ts").then((m) => m.importAllocations),
  },
  {
    name: "env",
    summary: "print the current app/instance's ports as SERVICE_PORT=N lines",
    flags: {
      app: FLAGS.app,
      instance: FLAGS.instance,
      format: { value: "<format>", help: "output format", choices: ENV_FORMATS, default: "dotenv" },
      write: {
        value: "<file>",
        help: "update these keys in a .env file, keeping every other line",
      },
      json: { help: "the same as --format json", implies: { format: "json" } },
    },
    load: () => import("./env.ts").then((m) => m.env),
  },
  {
    name: "scan",
    summary: "find host-bound ports in Compose files, .env files and package.json scripts",
    args: [
      {
        name: "dir",
        help: "project folder (default: the repository's top folder, else .)",
        optional: true,
      },
    ],
    flags: {
      depth: {
        value: "<n>",
        help: `folder levels below it to read (default ${SCAN_DEPTH})`,
        convert: parseDepth,
      },
      register: {
        help: "allocate each port found for the scanned folder's app/instance (reusing existing ones)",
      },
      fix: {
        help: "rewrite literal Compose host ports as variables (old number as default), in place",
      },
      "dry-run": { help: "with --fix: print the changes, write nothing", implies: { fix: true } },
      app: FLAGS.app,
      instance: FLAGS.instance,
      json: FLAGS.json,
    },
    load: () => import("./scan.ts").then((m) => m.scan),
  },
];
