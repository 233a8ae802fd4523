// Installs the embedded skill into agent skill folders. Each target is replaced as a whole:
// the files are written into a temporary sibling folder which is then renamed into place, so
// an agent never reads a half-written skill and no file of an older version survives.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { fileReason } from "../core/errors.ts";
import { isFolder, pathExists, realOrResolved } from "../core/files.ts";
import { isAlive } from "../core/processes.ts";
import { SKILL_FILES, SKILL_NAME, type SkillFile } from "./files.ts";

export type InstallStatus = "installed" | "skipped" | "failed";

export interface InstallResult {
  /** Display name of the agent platform, e.g. "OpenAI Codex". */
  platform: string;
  /** The skill folder, e.g. `/home/me/.codex/skills/port-manager`. */
  dir: string;
  status: InstallStatus;
  /** Why a target was skipped (status "skipped"). */
  reason?: string;
  /** One line saying what went wrong (status "failed"). */
  error?: string;
}

export interface Platform {
  name: string;
  /** The platform's folder in the home directory; we install only where it exists. */
  folder: string;
}

export const LOCAL_PLATFORM: Platform = { name: "Claude Code", folder: ".claude" };

export const GLOBAL_PLATFORMS: readonly Platform[] = [
  { name: "Claude Code", folder: ".claude" },
  { name: "OpenAI Codex", folder: ".codex" },
  { name: "Generic Agents", folder: ".agents" },
];

/** `<platformRoot>/skills/port-manager`. */
export function skillDir(platformRoot: string): string {
  return join(platformRoot, "skills", SKILL_NAME);
}

/**
 * Installs into `<cwd>/.claude/skills/port-manager`, creating the folders as needed. A cloned
 * repository may carry `.claude` or `.claude/skills` as a symlink: it is written through only
 * while it stays inside the project or `home`.
 */
export function installLocal(
  cwd: string,
  home?: string,
  files: readonly SkillFile[] = SKILL_FILES,
): InstallResult {
  const dir = skillDir(join(cwd, LOCAL_PLATFORM.folder));
  const outside = linkOutside(cwd, [LOCAL_PLATFORM.folder, "skills", SKILL_NAME], [cwd, home]);
  if (outside) return { platform: LOCAL_PLATFORM.name, dir, status: "failed", error: outside };
  return install(LOCAL_PLATFORM.name, dir, files);
}

/**
 * Installs into every platform whose folder exists in `home`; the others are reported as
 * skipped and left untouched. One failing target does not stop the rest.
 */
export function installGlobal(
  home: string,
  files: readonly SkillFile[] = SKILL_FILES,
): InstallResult[] {
  return GLOBAL_PLATFORMS.map((platform): InstallResult => {
    const root = join(home, platform.folder);
    const dir = skillDir(root);
    if (!isFolder(root)) {
      return { platform: platform.name, dir, status: "skipped", reason: `${root} not found` };
    }
    // The platform folder itself may live anywhere (dotfile managers link it); below it, stay home.
    const outside = linkOutside(root, ["skills", SKILL_NAME], [home, root]);
    if (outside) return { platform: platform.name, dir, status: "failed", error: outside };
    return install(platform.name, dir, files);
  });
}

/** Replaces `dir` with exactly `files`. Throws on failure, leaving any previous copy intact. */
export function writeSkill(dir: string, files: readonly SkillFile[]): void {
  const parent = dirname(dir);
  const name = basename(dir);
  mkdirSync(parent, { recursive: true, mode: DIR_MODE });
  removeLeftovers(parent, name);
  const fresh = join(parent, tempName(name, "new"));
  try {
    makeDir(fresh);
    for (const file of files) {
      const target = join(fresh, ...file.path.split("/"));
      makeDir(dirname(target));
      writeFileSync(target, file.content, { mode: FILE_MODE });
      chmodSync(target, FILE_MODE);
    }
    swapIn(fresh, dir);
  } finally {
    // Gone already after a successful swap; after a failure this drops the partial copy.
    rmSync(fresh, { recursive: true, force: true });
  }
}

// --- internal ---

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

function install(platform: string, dir: string, files: readonly SkillFile[]): InstallResult {
  try {
    writeSkill(dir, files);
    return { platform, dir, status: "installed" };
  } catch (err) {
    return { platform, dir, status: "failed", error: `cannot write ${dir}: ${describe(err)}` };
  }
}

/** Moves the old copy aside, renames the new one into place, then deletes the old one. */
function swapIn(fresh: string, dir: string): void {
  let old: string | undefined;
  if (pathExists(dir)) {
    old = join(dirname(dir), tempName(basename(dir), "old"));
    renameSync(dir, old);
  }
  try {
    renameSync(fresh, dir);
  } catch (err) {
    if (old) renameSync(old, dir);
    throw err;
  }
  if (old) rmSync(old, { recursive: true, force: true });
}

/**
 * The one line refusing `base/parts…` when one of its existing components is a symlink that
 * leads outside every `allowed` folder (dangling links judged by where they point).
 */
function linkOutside(
  base: string,
  parts: string[],
  allowed: (string | undefined)[],
): string | undefined {
  const roots = allowed.filter((r): r is string => r !== undefined).map(realOrResolved);
  let path = base;
  for (const part of parts) {
    path = join(path, part);
    let link: string;
    try {
      if (!lstatSync(path).isSymbolicLink()) continue;
      link = readlinkSync(path);
    } catch {
      return undefined; // missing: created below, inside what was checked so far
    }
    const target = realOrResolved(resolve(dirname(path), link));
    if (!roots.some((r) => target === r || target.startsWith(r + sep))) {
      return `refusing to write through ${path}: it is a symbolic link to ${target}, outside the project and your home folder`;
    }
  }
  return undefined;
}

/** Creates a folder (and missing parents) with DIR_MODE regardless of the umask. */
function makeDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
  chmodSync(path, DIR_MODE);
}

// Temporary folders are dot-named siblings tagged with our PID, so a crashed install's leftovers
// can be told apart from a concurrent install's work in progress.
function tempName(name: string, kind: "new" | "old"): string {
  const tag = Math.random().toString(36).slice(2, 10);
  return `.${name}.${process.pid}.${tag}.${kind}`;
}

function removeLeftovers(parent: string, name: string): void {
  const pattern = new RegExp(`^\\.${escapeRegExp(name)}\\.(\\d+)\\.[0-9a-z]+\\.(new|old)$`);
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(pattern.exec(entry)?.[1]);
    if (pid && !isAlive(pid)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

/** A one-line reason from a file system error: "permission denied", not a stack trace. */
function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "EEXIST" && e.path) return `${e.path} exists and is not a folder`;
  return fileReason(err, true);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
