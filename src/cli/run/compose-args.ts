// A Compose command line as Compose reads it: its global options (`-f`, `-p`,
// `--project-directory`, `--env-file`, `--profile`), its subcommand and the services that
// subcommand names. For `docker compose`/`podman compose` the options after `compose`, for
// `docker-compose`/`podman-compose` those after the program.
import { basename } from "node:path";

export interface ComposeArgs {
  files: string[];
  /** `-p`/`--project-name`, when given. */
  projectName?: string;
  projectDirectory?: string;
  envFiles: string[];
  profiles: string[];
  /** `up`, `down`, `ps`…; undefined when none is given (Compose prints its help). */
  subcommand?: string;
  /** The services the subcommand names (`up web db`, `run web …`'s web). */
  services: string[];
}

/** Reads `argv` (the whole command, `docker compose …` included). */
export function parseComposeArgs(argv: readonly string[]): ComposeArgs {
  const out: ComposeArgs = { files: [], envFiles: [], profiles: [], services: [] };
  let i = composeStart(argv);
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") continue;
    if (!a.startsWith("-") || a === "-") break;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    // `-fcompose.yaml`, `-pname`: a short option glued to its value.
    const glued = !a.startsWith("--") && a.length > 2 && SHORT_VALUE.has(a.slice(0, 2));
    if (!GLOBAL_VALUE.has(name) && !glued) continue;
    let value: string | undefined;
    if (glued) value = a.slice(2);
    else if (eq > 0) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) break;
    keep(out, glued ? a.slice(0, 2) : name, value);
  }
  out.subcommand = argv[i];
  if (out.subcommand !== undefined) out.services = servicesOf(argv.slice(i + 1), out.subcommand);
  return out;
}

/** The subcommands that create containers publishing the stack's ports. */
export const STARTS_CONTAINERS = new Set(["up", "create", "run", "start", "restart", "scale"]);

// --- internal ---

/** Global options of Compose (v2 and 1.29, Podman's) that take a value. */
const GLOBAL_VALUE = new Set([
  "-f",
  "--file",
  "-p",
  "--project-name",
  "--project-directory",
  "--env-file",
  "--profile",
  "--ansi",
  "--progress",
  "--parallel",
  "--log-level",
  "-H",
  "--host",
  "--context",
  "-c",
  "--tlscacert",
  "--tlscert",
  "--tlskey",
  "--podman-path",
  "--podman-args",
  "--podman-pull-args",
  "--podman-push-args",
  "--podman-build-args",
  "--podman-inspect-args",
  "--podman-run-args",
  "--podman-start-args",
  "--podman-stop-args",
  "--podman-rm-args",
  "--podman-volume-args",
]);
const SHORT_VALUE = new Set(["-f", "-p", "-H", "-c"]);

function keep(out: ComposeArgs, name: string, value: string): void {
  if (name === "-f" || name === "--file") out.files.push(value);
  else if (name === "-p" || name === "--project-name") out.projectName = value;
  else if (name === "--project-directory") out.projectDirectory = value;
  else if (name === "--env-file") out.envFiles.push(value);
  else if (name === "--profile") out.profiles.push(value);
}

/** Where Compose's own options begin: after `compose` (docker, podman), else after argv[0]. */
function composeStart(argv: readonly string[]): number {
  const bin = basename(argv[0] ?? "");
  if (bin !== "docker" && bin !== "podman") return 1;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "compose") return i + 1;
    if (DOCKER_VALUE.has(a)) i++;
  }
  return argv.length;
}

/** Global options of docker and podman that take a value (`docker --context x compose up`). */
export const DOCKER_VALUE = new Set([
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

/** Options of up/create/run/start… that take a value, so their values are not service names. */
const SUB_VALUE = new Set([
  "-t",
  "--timeout",
  "--scale",
  "--exit-code-from",
  "--pull",
  "--wait-timeout",
  "--attach",
  "--no-attach",
  "-e",
  "--env",
  "-l",
  "--label",
  "-u",
  "--user",
  "-w",
  "--workdir",
  "--entrypoint",
  "--name",
  "-p",
  "--publish",
  "-v",
  "--volume",
  "--cap-add",
  "--cap-drop",
  "-n",
  "--tail",
  "--since",
  "--until",
  "--index",
  "--format",
  "--filter",
  "--status",
]);

function servicesOf(args: readonly string[], subcommand: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") continue;
    if (a.startsWith("-")) {
      if (SUB_VALUE.has(a)) i++;
      continue;
    }
    out.push(a);
    // `run web cmd args…` and `exec web cmd…`: one service, then its command.
    if (subcommand === "run" || subcommand === "exec") break;
  }
  return out;
}
