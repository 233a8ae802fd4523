// `portctl run -- docker compose up`: a Compose stack has no single port. Every host port set
// by a variable (`${PG_PORT:-5432}:5432`) is allocated for this app/instance (the file's default
// when it is free, so the first checkout keeps 5432) and the variable is set to it; a literal
// host port cannot be moved from outside, and is named with the fix.
import { basename, resolve } from "node:path";
import { PortError } from "../../core/errors.ts";
import type { Allocation } from "../../core/model.ts";
import { namedPorts } from "../../core/scan/compose.ts";
import {
  type ComposeProject,
  composeProjectAt,
  loadComposeProject,
} from "../../core/scan/index.ts";
import type { Client } from "../client.ts";

/** `docker compose …`, `docker-compose …`, `podman compose …`, `podman-compose …`. */
export function isComposeCommand(argv: readonly string[]): boolean {
  const bin = basename(argv[0] ?? "");
  if (bin === "docker-compose" || bin === "podman-compose") return true;
  if (bin !== "docker" && bin !== "podman") return false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (!a.startsWith("-")) return a === "compose";
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return false;
}

/** Global options of docker and podman that take a value (`docker --context x compose up`). */
const VALUE_OPTIONS = new Set([
  "-c",
  "--context",
  "-H",
  "--host",
  "--config",
  "-l",
  "--log-level",
  "--connection",
  "--url",
  "--identity",
  "--root",
  "--runroot",
]);

export interface StackPort {
  service: string;
  /** The variable that moves it; undefined for a literal host port. */
  variable?: string;
  /** The file's own number (the variable's default, or the literal). */
  preferred?: number;
  source: string;
}

/** The project the command will load (its `-f`/`--file` flags, else Compose's own files). */
export function loadStack(
  argv: readonly string[],
  cwd: string,
  env: Record<string, string | undefined>,
): ComposeProject {
  const files = fileFlags(argv).map((f) => resolve(cwd, f));
  const project = files.length
    ? loadComposeProject(files, { env })
    : composeProjectAt(cwd, { env });
  if (!project) throw new PortError("bad_request", `no Compose file in ${cwd}`);
  const error = project.problems.find((p) => p.severity === "error");
  if (error) throw new PortError("bad_request", `${error.source}: ${error.message}`);
  return project;
}

/** One entry per variable (several ports may share one) and per literal host port. */
export function stackPorts(project: ComposeProject, label: (p: string) => string): StackPort[] {
  const out: StackPort[] = [];
  const seen = new Set<string>();
  // The names `scan --register` gives, so both commands register a stack under the same services.
  for (const { port: p, finding } of namedPorts(project, label)) {
    const { service, source } = finding;
    if (!p.variable) {
      if (p.hostSpan) out.push({ service, preferred: p.host, source });
      continue;
    }
    if (seen.has(p.variable.name)) continue;
    seen.add(p.variable.name);
    // The number the project sets now (environment, then `.env`, then the default) is the
    // one to keep when it is free.
    out.push({ service, variable: p.variable.name, preferred: p.host, source });
  }
  return out;
}

/**
 * This checkout's port for a stack's service: the one it holds, else the file's number when
 * nobody holds it and nothing listens there, else the first free one.
 */
export async function allocateStackPort(
  client: Client,
  who: { app: string; instance: string; checkout?: string; lease_pid?: number },
  port: StackPort,
): Promise<Allocation> {
  const req = { ...who, service: port.service };
  if (port.preferred) {
    try {
      return (await client.allocate({ ...req, port: port.preferred }, { reuse: true })).allocation;
    } catch (err) {
      const code = err instanceof PortError ? err.code : undefined;
      if (code !== "port_allocated" && code !== "port_in_use" && code !== "service_allocated")
        throw err;
    }
  }
  return (await client.allocate({ ...req, port: 0 }, { reuse: true })).allocation;
}

// --- internal ---

/** Compose's `-f FILE`, `--file FILE`, `--file=FILE` before its subcommand's own arguments. */
function fileFlags(argv: readonly string[]): string[] {
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if ((a === "-f" || a === "--file") && argv[i + 1]) files.push(argv[++i] as string);
    else if (a.startsWith("--file=")) files.push(a.slice("--file=".length));
  }
  return files;
}
