// Installs the embedded skill into agent skill folders. Each target is replaced as a whole:
// the files are written into a temporary sibling folder which is then renamed into place, so
// an agent never reads a half-written skill and no file of an older version survives.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
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

export type InstallStatus = "installed" | "skipped" | "failed" | "removed";

export interface InstallResult {
  /** The agent hosts that read this folder (project) or were found at home (global). */
  hosts: string[];
  /** The skill folder, e.g. `/home/me/.agents/skills/port-manager`. */
  dir: string;
  status: InstallStatus;
  /** Why a target was skipped (status "skipped"). */
  reason?: string;
  /** One line saying what went wrong (status "failed"). */
  error?: string;
}

/** A skills folder and the hosts that read it. */
export interface SkillTarget {
  /** Relative to the project or the home folder: `.agents`, `.claude`. */
  folder: string;
  hosts: readonly string[];
}

/**
 * The cross-tool folder `.agents/skills` is read by every host but Claude Code, which reads only
 * `.claude/skills`; a project gets both, with the same bytes.
 */
export const PROJECT_TARGETS: readonly SkillTarget[] = [
  {
    folder: ".agents",
    hosts: ["Codex", "Gemini CLI", "Cursor", "Goose", "OpenCode", "GitHub Copilot"],
  },
  { folder: ".claude", hosts: ["Claude Code"] },
];

/** An agent host and the folder in the home directory that says it is installed. */
export interface AgentHost {
  name: string;
  folder: string;
}

export const AGENT_HOSTS: readonly AgentHost[] = [
  { name: "Claude Code", folder: ".claude" },
  { name: "Codex", folder: ".codex" },
  { name: "Gemini CLI", folder: ".gemini" },
  { name: "Cursor", folder: ".cursor" },
  { name: "OpenCode", folder: ".config/opencode" },
  { name: "GitHub Copilot", folder: ".copilot" },
  { name: "Goose", folder: ".config/goose" },
  { name: "other agents", folder: ".agents" },
];

/** The home folders `--global` writes: `~/.agents` for all hosts, `~/.claude` for Claude Code. */
export const GLOBAL_TARGETS: readonly SkillTarget[] = [
  {
    folder: ".agents",
    hosts: AGENT_HOSTS.filter((h) => h.folder !== ".claude").map((h) => h.name),
  },
  { folder: ".claude", hosts: ["Claude Code"] },
];

/** `<root>/skills/port-manager`. */
export function skillDir(root: string): string {
  return join(root, "skills", SKILL_NAME);
}

/**
 * Installs into `<cwd>/.agents/skills/port-manager` and `<cwd>/.claude/skills/port-manager`,
 * creating the folders as needed. A cloned repository may carry `.claude` or `.claude/skills` as
 * a symlink: it is written through only while it stays inside the project or `home`.
 */
export function installLocal(
  cwd: string,
  home?: string,
  files: readonly SkillFile[] = SKILL_FILES,
): InstallResult[] {
  return PROJECT_TARGETS.map((target): InstallResult => {
    const dir = skillDir(join(cwd, target.folder));
    const hosts = [...target.hosts];
    const outside = linkOutside(cwd, [target.folder, "skills", SKILL_NAME], [cwd, home]);
    if (outside) return { hosts, dir, status: "failed", error: outside };
    return install(hosts, dir, files);
  });
}

/**
 * `~/.agents/skills` when any agent host's folder exists (created if missing), and
 * `~/.claude/skills` when Claude Code's does; each result names the hosts found that read it.
 * One failing target does not stop the other.
 */
export function installGlobal(
  home: string,
  files: readonly SkillFile[] = SKILL_FILES,
): InstallResult[] {
  const found = AGENT_HOSTS.filter((h) => isFolder(join(home, h.folder)));
  const results = GLOBAL_TARGETS.map((target): InstallResult => {
    const root = join(home, target.folder);
    const dir = skillDir(root);
    const hosts = found.filter((h) => target.hosts.includes(h.name)).map((h) => h.name);
    if (target.folder === ".claude" ? !isFolder(root) : found.length === 0) {
      return { hosts, dir, status: "skipped", reason: `${root} not found` };
    }
    // The host's folder itself may live anywhere (dotfile managers link it); below it, stay home.
    const base = isFolder(root) ? root : home;
    const parts = base === root ? ["skills", SKILL_NAME] : [target.folder, "skills", SKILL_NAME];
    const outside = linkOutside(base, parts, [home, root]);
    if (outside) return { hosts, dir, status: "failed", error: outside };
    return install(hosts, dir, files);
  });
  const legacy = results[0]?.status === "installed" ? removeLegacy(home) : undefined;
  return legacy ? [...results, legacy] : results;
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

/**
 * Earlier versions wrote `~/.codex/skills/port-manager`; Codex now reads `~/.agents/skills` as
 * well and would list the skill twice. Our own copy (a real folder whose SKILL.md is named
 * port-manager) is removed once the new one is in place; anything else there is left alone.
 */
function removeLegacy(home: string): InstallResult | undefined {
  const codex = join(home, ".codex");
  const dir = skillDir(codex);
  if (linkOutside(codex, ["skills", SKILL_NAME], [home, codex])) return undefined;
  try {
    if (!lstatSync(dir).isDirectory()) return undefined;
    const head = readFileSync(join(dir, "SKILL.md"), "utf8").slice(0, 200);
    if (!/^---\r?\nname: port-manager\r?\n/.test(head)) return undefined;
    rmSync(dir, { recursive: true, force: true });
    return { hosts: ["Codex"], dir, status: "removed", reason: "superseded by ~/.agents/skills" };
  } catch {
    return undefined;
  }
}
const FILE_MODE = 0o644;

function install(hosts: string[], dir: string, files: readonly SkillFile[]): InstallResult {
  try {
    writeSkill(dir, files);
    return { hosts, dir, status: "installed" };
  } catch (err) {
    return { hosts, dir, status: "failed", error: `cannot write ${dir}: ${describe(err)}` };
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
