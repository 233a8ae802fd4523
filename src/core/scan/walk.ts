// Which files `scan` reads: Compose files, `.env*` and package.json down to a depth, never in
// dependency or build folders. A Compose file it does not read (too deep, in a skipped folder,
// a link leading out of the tree) is named, never silently dropped.
import { type Dirent, readdirSync, realpathSync, statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import { SCAN_DEPTH } from "../config.ts";

export type Kind = "compose" | "env" | "script";

export interface Unscanned {
  path: string;
  reason: "depth" | "folder" | "outside";
}

export interface Walked {
  files: string[];
  unscanned: Unscanned[];
}

export function kindOf(path: string): Kind | null {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (/^(docker-)?compose([.-][^/]*)?\.ya?ml$/i.test(name)) return "compose";
  if (/^\.env(\..+)?$/.test(name)) return "env";
  if (name === "package.json") return "script";
  return null;
}

export function walk(root: string, depth = SCAN_DEPTH): Walked {
  const w: Walker = {
    root,
    realRoot: real(root),
    depth,
    files: [],
    unscanned: [],
    budget: LOOK_BUDGET,
  };
  visit(w, root, 0);
  return { files: w.files, unscanned: w.unscanned };
}

// --- internal ---

/** Never looked into, not even for names: other people's code and git's own files. */
const NEVER = new Set(["node_modules", ".git"]);
/** Not scanned, but a Compose file in them is named. */
const SKIP = new Set(["dist", "build", "vendor", "target", ".venv", "venv", ".next", "coverage"]);
/** Folders visited only to name the Compose files not scanned: bounded, so scan stays fast. */
const LOOK_BUDGET = 2000;

interface Walker extends Walked {
  root: string;
  realRoot: string;
  depth: number;
  budget: number;
}

function visit(w: Walker, dir: string, depth: number): void {
  for (const e of entries(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (NEVER.has(e.name)) continue;
      if (SKIP.has(e.name)) look(w, path, "folder");
      else if (depth >= w.depth) look(w, path, "depth");
      else visit(w, path, depth + 1);
    } else if (e.isSymbolicLink()) linked(w, path);
    else if (e.isFile() && kindOf(path)) w.files.push(path);
  }
}

/**
 * A link to a file inside the scanned tree is read. One leading out of it is not followed; the
 * Compose files it leads to (a file, or those in a folder) are named. A link to a folder inside
 * the tree adds nothing: that folder is walked where it is.
 */
function linked(w: Walker, path: string): void {
  let target: string;
  let isFile: boolean;
  try {
    target = realpathSync(path);
    isFile = statSync(target).isFile();
  } catch {
    return; // dangling: nothing to read
  }
  const rel = relative(w.realRoot, target);
  const outside = rel.startsWith(`..${sep}`) || rel === ".." || rel.startsWith(sep);
  if (!isFile) {
    if (outside && !NEVER.has(basename(path))) look(w, path, "outside");
  } else if (!kindOf(path)) return;
  else if (!outside) w.files.push(path);
  else if (kindOf(path) === "compose") w.unscanned.push({ path, reason: "outside" });
}

function look(w: Walker, dir: string, reason: Unscanned["reason"]): void {
  if (w.budget-- <= 0) return;
  for (const e of entries(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory() && !NEVER.has(e.name)) look(w, path, reason);
    else if (!e.isDirectory() && kindOf(path) === "compose") w.unscanned.push({ path, reason });
  }
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
