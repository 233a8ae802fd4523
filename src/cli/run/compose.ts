// `portctl run -- docker compose …`: a Compose stack has no single port. Every host port set
// by a variable (`${PG_PORT:-5432}:5432`) is allocated for this app/instance (the file's default
// when it is free, so the first checkout keeps 5432) and the variable is set to it; a host range
// set by two variables gets a block; a literal host port cannot be moved from outside, and is
// named with the fix. The stack's project name is the checkout's own (core/projects.ts).
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { PortError } from "../../core/errors.ts";
import type { Allocation } from "../../core/model.ts";
import { normalizeProjectName } from "../../core/projects.ts";
import { namedPorts } from "../../core/scan/compose.ts";
import { serviceFromKey } from "../../core/scan/envfiles.ts";
import {
  type ComposeProject,
  composeFiles,
  composeProjectAt,
  loadComposeProject,
} from "../../core/scan/index.ts";
import type { Client } from "../client.ts";
import { type ComposeArgs, DOCKER_VALUE, parseComposeArgs } from "./compose-args.ts";

/** `docker compose …`, `docker-compose …`, `podman compose …`, `podman-compose …`. */
export function isComposeCommand(argv: readonly string[]): boolean {
  const bin = basename(argv[0] ?? "");
  if (bin === "docker-compose" || bin === "podman-compose") return true;
  if (bin !== "docker" && bin !== "podman") return false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (!a.startsWith("-")) return a === "compose";
    if (DOCKER_VALUE.has(a)) i++;
  }
  return false;
}

/** What a Compose command line will work on, read as Compose reads it. */
export interface Stack {
  args: ComposeArgs;
  project: ComposeProject;
  /** The name Compose would pick itself: `.env`'s COMPOSE_PROJECT_NAME, `name:`, the folder. */
  natural: string;
  /** The name the user gave (`-p`, COMPOSE_PROJECT_NAME in the environment). */
  explicit?: string;
  /** The profiles that are active (`--profile`, else COMPOSE_PROFILES). */
  profiles: string[];
}

export interface StackPort {
  service: string;
  /** The variable that moves it; undefined for a literal host port. */
  variable?: string;
  /** A host range: how many ports, and the variable that sets its last one (when it moves). */
  block?: { count: number; endVariable?: string; literal?: boolean };
  /** The file's own number (the variable's default, or the literal; a range's first). */
  preferred?: number;
  source: string;
  /** The Compose service's profiles (empty: always started). */
  profiles: string[];
  /** The container port it publishes (when the entry names one), and its protocol. */
  target?: number;
  protocol?: "tcp" | "udp";
}

/** The project the command will load: `-f`, `--project-directory`, `--env-file` honoured. */
export function loadStack(
  argv: readonly string[],
  cwd: string,
  env: Record<string, string | undefined>,
): Stack {
  const args = parseComposeArgs(argv);
  if (args.files.includes("-")) {
    throw new PortError("bad_request", "portctl run cannot read a Compose file from stdin (-f -)");
  }
  // --env-file, else Compose v2's COMPOSE_ENV_FILES (comma-separated), from the working folder.
  const listedEnvFiles = (env.COMPOSE_ENV_FILES ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  const fromFlag = args.envFiles.length > 0;
  const envFiles = (fromFlag ? args.envFiles : listedEnvFiles).map((f) => resolve(cwd, f));
  const missing = envFiles.find((f) => !existsSync(f));
  if (missing) {
    const origin = fromFlag ? "--env-file" : "COMPOSE_ENV_FILES names";
    throw new PortError("bad_request", `${origin} ${missing}: no such file`);
  }
  const files = args.files.map((f) => resolve(cwd, f));
  const given = args.projectDirectory ? resolve(cwd, args.projectDirectory) : undefined;
  const opts = { env, ...(envFiles.length ? { envFiles } : {}) };
  let project: ComposeProject | null;
  if (files.length) {
    project = loadComposeProject(files, { ...opts, dir: given ?? dirname(files[0] as string) });
  } else {
    const dir = projectFolder(given ?? cwd, opts);
    project = dir ? composeProjectAt(dir, opts) : null;
    // --project-directory without -f: the files are looked for there, the folder stays.
    if (project && given) project = { ...project, dir: given };
  }
  if (!project) throw new PortError("bad_request", `no Compose file in ${given ?? cwd}`);
  const error = project.problems.find((p) => p.severity === "error");
  if (error) throw new PortError("bad_request", `${error.source}: ${error.message}`);
  const natural =
    project.dotenv.COMPOSE_PROJECT_NAME ??
    project.name ??
    normalizeProjectName(basename(project.dir));
  const explicit = args.projectName ?? env.COMPOSE_PROJECT_NAME;
  const listed = env.COMPOSE_PROFILES ?? project.dotenv.COMPOSE_PROFILES ?? "";
  const profiles = args.profiles.length
    ? args.profiles
    : listed
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);
  return { args, project, natural, ...(explicit ? { explicit } : {}), profiles };
}

/**
 * One entry per variable (several ports may share one), per literal host port and per host
 * range, for the services the command starts: those of no profile or of an active one, and
 * those it names (Compose starts a service named on the command line whatever its profile, and
 * makes its profiles active).
 */
export function stackPorts(stack: Stack, label: (p: string) => string): StackPort[] {
  const out: StackPort[] = [];
  const seen = new Set<string>();
  const named = new Set(stack.args.services);
  // The specification: a service targeted on the command line adds its profiles to the active
  // ones, so what it depends on in its own profile starts with it.
  const activeProfiles = new Set(stack.profiles);
  for (const s of stack.project.services)
    if (named.has(s.name)) for (const p of s.profiles) activeProfiles.add(p);
  const active = (profiles: string[], name: string) =>
    profiles.length === 0 ||
    named.has(name) ||
    activeProfiles.has("*") ||
    profiles.some((p) => activeProfiles.has(p));
  // The names `scan --register` gives, so both commands register a stack under the same services.
  for (const { port: p, finding, service: s } of namedPorts(stack.project, label)) {
    if (!active(s.profiles, s.name)) continue;
    const { source } = finding;
    const profiles = s.profiles;
    if (p.range) {
      const key = `${p.file}|${p.offset[0]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const vars = p.range.variables;
      const start = vars?.start.name;
      const service = start && /(^|_)PORT$/i.test(start) ? serviceFromKey(start) : s.name;
      out.push({
        service,
        ...(vars ? { variable: vars.start.name } : {}),
        block: {
          count: p.range.count,
          ...(vars ? { endVariable: vars.end.name } : {}),
          ...(p.range.span ? { literal: true } : {}),
        },
        preferred: p.range.first,
        source,
        profiles,
      });
      continue;
    }
    if (!p.variable) {
      if (p.hostSpan) out.push({ service: finding.service, preferred: p.host, source, profiles });
      continue;
    }
    if (seen.has(p.variable.name)) continue;
    seen.add(p.variable.name);
    // The number the project sets now (environment, then `.env`, then the default) is the
    // one to keep when it is free.
    out.push({
      service: finding.service,
      variable: p.variable.name,
      preferred: p.host,
      source,
      profiles,
      ...(p.target !== undefined ? { target: p.target } : {}),
      protocol: p.protocol,
    });
  }
  return out;
}

/**
 * This checkout's port (or block) for a stack's service: the one it holds, else the file's
 * number when nobody holds it and nothing listens there, else the first free one.
 */
export async function allocateStackPort(
  client: Client,
  who: {
    app: string;
    instance: string;
    checkout?: string;
    lease_pid?: number;
    lease_session?: string;
  },
  port: StackPort,
): Promise<Allocation[]> {
  const count = port.block?.count ?? 1;
  const req = { ...who, service: port.service, ...(count > 1 ? { count } : {}) };
  const rows = (r: { allocation: Allocation; block?: Allocation[] }) => r.block ?? [r.allocation];
  if (port.preferred) {
    try {
      return rows(await client.allocate({ ...req, port: port.preferred }, { reuse: true }));
    } catch (err) {
      const code = err instanceof PortError ? err.code : undefined;
      if (code !== "port_allocated" && code !== "port_in_use" && code !== "service_allocated")
        throw err;
    }
  }
  return rows(await client.allocate({ ...req, port: 0 }, { reuse: true }));
}

// --- internal ---

/** The folder Compose finds its files in: this one, else the nearest one above that has them. */
function projectFolder(
  start: string,
  opts: { env: Record<string, string | undefined>; envFiles?: string[] },
): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (composeFiles(dir, opts.env, opts.envFiles ? { envFiles: opts.envFiles } : {})) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
