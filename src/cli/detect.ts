// Default app and instance names from the git checkout around the current folder. Read from
// the files git keeps (.git, gitdir, commondir, HEAD) rather than by running git: no
// dependency on a git binary, and no process start on every command.
import { statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { PortError } from "../core/errors.ts";
import { readText, realOrResolved } from "../core/files.ts";
import { nameProblem } from "../core/namerule.ts";

export interface Checkout {
  /** The folder that holds `.git`: this checkout's top folder. */
  top: string;
  /** The main repository's folder name, even inside a linked worktree. */
  repo: string;
  /** The linked worktree's folder name, when inside one. */
  worktree?: string;
  /** The checked-out branch, unless HEAD is detached. */
  branch?: string;
}

const DEFAULT_INSTANCE = "default";

/**
 * `--app` default: the git repository's name, else the folder's name. A name that cannot be one
 * (`/` has none; over 128 characters) is refused with one line naming where it came from, never
 * sent: an empty app would mean "every app" to a filter.
 */
export function detectApp(cwd: string): string {
  return appOf(findCheckout(cwd), cwd);
}

/**
 * `--app` and `--instance` for `cwd`: the ones given, the others detected in one walk up to
 * `.git` (none when both are given). The instance is the linked worktree's folder, else the
 * branch, else `default`; a `/` in a branch becomes `-` (`feature/login` → `feature-login`), so
 * `app/instance/service` stays unambiguous.
 */
export function detectOwner(
  cwd: string,
  given: { app?: string | undefined; instance?: string | undefined } = {},
): { app: string; instance: string } {
  if (given.app !== undefined && given.instance !== undefined) {
    return { app: given.app, instance: given.instance };
  }
  const c = findCheckout(cwd);
  return {
    app: given.app ?? appOf(c, cwd),
    instance: given.instance ?? instanceOf(c),
  };
}

/**
 * The checkout an allocation made here belongs to: the absolute path of the worktree root (the
 * folder holding `.git`, a linked worktree's own folder included), else the current folder.
 */
export function detectCheckoutPath(cwd: string): string {
  // Symlinks resolved, so one checkout reached two ways is recorded once.
  const start = realOrResolved(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (entryKind(join(dir, ".git")) !== null) return dir;
    if (dirname(dir) === dir) return start;
  }
}

export function findCheckout(cwd: string): Checkout | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    const kind = entryKind(dotGit);
    if (kind === "dir") return { top: dir, repo: basename(dir), ...branchOf(dotGit) };
    if (kind === "file") return fromGitFile(dir, dotGit);
    if (dirname(dir) === dir) return null;
  }
}

// --- internal ---

function appOf(c: Checkout | null, cwd: string): string {
  const name = c?.repo ?? basename(resolve(cwd));
  const why = nameProblem(name);
  if (why === undefined) return name;
  const origin = c ? "the repository's folder name" : "this folder's name";
  if (!name.trim()) {
    throw new PortError("bad_request", `${resolve(cwd)} gives no app name: pass --app NAME`);
  }
  throw new PortError(
    "bad_request",
    `${origin} (${shortened(name)}) cannot be an app name: it ${why}; pass --app NAME`,
  );
}

function instanceOf(c: Checkout | null): string {
  if (c?.worktree !== undefined) return checkedInstance(c.worktree, "the worktree's folder name");
  if (c?.branch !== undefined) return checkedInstance(c.branch.replaceAll("/", "-"), "the branch");
  return DEFAULT_INSTANCE;
}

function checkedInstance(name: string, origin: string): string {
  const why = nameProblem(name);
  if (why === undefined) return name;
  throw new PortError(
    "bad_request",
    `${origin} (${shortened(name)}) cannot be an instance name: it ${why}; pass --instance NAME`,
  );
}

/** A name to quote in a message: its first 40 characters. */
function shortened(name: string): string {
  const chars = [...name];
  return chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : name;
}

/** A `.git` file points at the real git dir: a linked worktree (has `commondir`) or a submodule. */
function fromGitFile(top: string, dotGit: string): Checkout {
  const gitDir = readPointer(dotGit, top);
  const common = gitDir ? readLine(join(gitDir, "commondir")) : null;
  if (!gitDir || common === null)
    return { top, repo: basename(top), ...(gitDir ? branchOf(gitDir) : {}) };
  const commonDir = resolve(gitDir, common);
  return { top, repo: repoName(commonDir), worktree: basename(top), ...branchOf(gitDir) };
}

/** `/src/shop/.git` → `shop`; a bare `/src/shop.git` → `shop`. */
function repoName(commonDir: string): string {
  const name = basename(commonDir);
  return name === ".git" ? basename(dirname(commonDir)) : name.replace(/\.git$/, "");
}

function branchOf(gitDir: string): { branch?: string } {
  const head = readLine(join(gitDir, "HEAD"));
  const m = head ? /^ref: refs\/heads\/(.+)$/.exec(head) : null;
  return m?.[1] ? { branch: m[1] } : {};
}

function readPointer(file: string, base: string): string | null {
  const m = /^gitdir:\s*(.+)$/.exec(readLine(file) ?? "");
  if (!m?.[1]) return null;
  return isAbsolute(m[1]) ? m[1] : resolve(base, m[1]);
}

/** The file's text without its newline, or null when it cannot be read. */
function readLine(path: string): string | null {
  return readText(path)?.trim() ?? null;
}

function entryKind(path: string): "dir" | "file" | null {
  try {
    const st = statSync(path);
    return st.isDirectory() ? "dir" : st.isFile() ? "file" : null;
  } catch {
    return null;
  }
}
