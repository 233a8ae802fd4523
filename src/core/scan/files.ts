// Which files a Compose project is made of, and how scan reads them: Compose's own names,
// COMPOSE_FILE, the folder's `.env`; regular files of sane size only.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { MAX_COMPOSE_BYTES } from "../config.ts";
import { envVars } from "./envfiles.ts";
import type { Vars } from "./interpolate.ts";

/** Compose's own file names, in its order of preference. */
export const COMPOSE_FILES = [
  "compose.yaml",
  "compose.yml",
  "docker-compose.yml",
  "docker-compose.yaml",
];
export const OVERRIDE_FILES = [
  "compose.override.yml",
  "compose.override.yaml",
  "docker-compose.override.yml",
  "docker-compose.override.yaml",
];

/**
 * The files `docker compose` in `dir` would read: `COMPOSE_FILE` (from the environment, else
 * `dir/.env`; `:`-separated, or COMPOSE_PATH_SEPARATOR) when set, else the first of
 * COMPOSE_FILES plus the first of OVERRIDE_FILES. `null` when there is no project there.
 */
export function composeFiles(dir: string, env: Vars, fs: FileAccess = {}): string[] | null {
  const read = fs.read ?? readProjectFile;
  const exists =
    fs.exists ?? ((p: string) => (read === readProjectFile ? existsSync(p) : canRead(read, p)));
  const dotenv =
    fs.envFiles || exists(join(dir, ".env")) ? dotenvOf(dir, read, env, fs.envFiles) : {};
  const list = env.COMPOSE_FILE ?? dotenv.COMPOSE_FILE;
  if (list) {
    const sep = env.COMPOSE_PATH_SEPARATOR ?? dotenv.COMPOSE_PATH_SEPARATOR ?? ":";
    return list
      .split(sep)
      .filter(Boolean)
      .map((f) => resolve(dir, f));
  }
  const main = COMPOSE_FILES.map((n) => join(dir, n)).find(exists);
  if (!main) return null;
  const override = OVERRIDE_FILES.map((n) => join(dir, n)).find(exists);
  return override ? [main, override] : [main];
}

/** How files are reached; a scan that has listed the folders already answers `exists` itself. */
export interface FileAccess {
  read?: (path: string) => string;
  exists?: (path: string) => boolean;
  /** `--env-file`s read instead of `dir/.env`. */
  envFiles?: string[];
}

// --- for project.ts ---

/**
 * The folder's `.env` (or the `--env-file`s given, in order, a later one winning), interpolated
 * as Compose does; nothing for a file that is not there.
 */
export function dotenvOf(
  dir: string,
  read: (p: string) => string,
  env: Vars,
  envFiles: string[] = [join(dir, ".env")],
): Vars {
  const out: Vars = {};
  for (const file of envFiles) {
    try {
      Object.assign(out, envVars(read(file), { ...out, ...env }));
    } catch {
      // a missing file: Compose says so itself for an explicit one (run checks it first)
    }
  }
  return out;
}

/**
 * A regular file of sane size only: a repository's `extends: {file: /dev/zero}` or a FIFO must
 * not hang scan, and a huge file is no Compose file.
 */
export function readProjectFile(path: string): string {
  const stat = statSync(path);
  if (!stat.isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTFILE" });
  if (stat.size > MAX_COMPOSE_BYTES)
    throw Object.assign(new Error(`larger than ${MAX_COMPOSE_BYTES >> 20} MiB`), { code: "EFBIG" });
  return readFileSync(path, "utf8");
}

function canRead(read: (p: string) => string, path: string): boolean {
  try {
    read(path);
    return true;
  } catch {
    return false;
  }
}
