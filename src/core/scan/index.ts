// `portctl scan`: walks a project folder and collects host-bound ports from Compose projects,
// .env files and package.json scripts. Reads only; a file that cannot be parsed is reported
// and the others are still scanned.
import { readFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileReason } from "../errors.ts";
import { composeFindings } from "./compose.ts";
import { scanEnvFile } from "./envfiles.ts";
import type { Vars } from "./interpolate.ts";
import type { ComposeProject } from "./model.ts";
import { composeFiles, loadComposeProject } from "./project.ts";
import { scanPackageJson } from "./scripts.ts";
import type { Finding, Problem, ScanResult } from "./types.ts";
import { kindOf, type Unscanned, walk } from "./walk.ts";

export type { ComposeProject, ComposeService, PublishedPort } from "./model.ts";
export { composeFiles, composeProjectAt, loadComposeProject } from "./project.ts";
export type { Finding, Problem, ScanResult } from "./types.ts";
export type { Unscanned } from "./walk.ts";

export interface ProjectScan extends ScanResult {
  /** Compose files found but not read (too deep, in a skipped folder, linked from outside). */
  unscanned: Unscanned[];
}

/** A path as scan and scan --fix show it: relative to the scanned folder (the folder itself as is). */
export function labelUnder(root: string): (path: string) => string {
  return (path) => relative(root, path) || path;
}

export function scanProject(
  root: string,
  env: Vars = {},
  opts: { depth?: number } = {},
): ProjectScan {
  const findings: Finding[] = [];
  const problems: Problem[] = [];
  const { files, unscanned } = walk(root, opts.depth);
  const label = labelUnder(root);
  for (const project of composeProjects(root, files, env, label)) {
    findings.push(...composeFindings(project, label));
    problems.push(...project.problems);
  }
  for (const path of files) {
    const kind = kindOf(path);
    if (kind === "compose") continue;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      problems.push({ source: label(path), message: fileReason(err), severity: "error" });
      continue;
    }
    const result =
      kind === "env" ? scanEnvFile(text, label(path)) : scanPackageJson(text, label(path));
    findings.push(...result.findings);
    problems.push(...result.problems);
  }
  return {
    findings: onceEach(findings),
    problems,
    unscanned: unscanned.map((u) => ({ ...u, path: label(u.path) })),
  };
}

/** The Compose projects `scanProject` reads under `root`, for `scan --fix`. */
export function composeProjectsUnder(
  root: string,
  env: Vars = {},
  opts: { depth?: number } = {},
): ComposeProject[] {
  return composeProjects(root, walk(root, opts.depth).files, env, labelUnder(root));
}

export interface Skipped {
  finding: Finding;
  reason: string;
}

/**
 * What `scan --register` sends: one finding per host port (the registry knows ports, not
 * protocols), and one port per service name. The first finding wins (Compose, then .env files,
 * then scripts); a later one naming the same service with another port (`POSTGRES_PORT` in
 * both `.env` and `.env.local`) is skipped with the reason, not reported as a conflict.
 */
export function planRegistration(findings: Finding[]): { register: Finding[]; skipped: Skipped[] } {
  const ports = new Set<number>();
  const services = new Map<string, Finding>();
  const register: Finding[] = [];
  const skipped: Skipped[] = [];
  for (const f of findings) {
    if (ports.has(f.port)) continue;
    const first = services.get(f.service);
    if (first) {
      skipped.push({
        finding: f,
        reason: `${f.service} is registered from ${first.source} with port ${first.port}`,
      });
      continue;
    }
    ports.add(f.port);
    services.set(f.service, f);
    register.push(f);
  }
  return { register, skipped };
}

// --- internal ---

/**
 * A `.env` beside a Compose file that says the same port (`WEB_PORT=8080` for
 * `${WEB_PORT:-8080}:80`) is one port, not two: its line is dropped, Compose's kept. A `.env`
 * of another folder naming that port is another claim on it, and stays.
 */
function onceEach(findings: Finding[]): Finding[] {
  const published = new Set<string>();
  for (const f of findings) if (f.kind === "compose") published.add(`${folderOf(f)} ${f.port}`);
  return findings.filter((f) => f.kind !== "env" || !published.has(`${folderOf(f)} ${f.port}`));
}

/** `apps/web/.env:3` → `apps/web`; `docker-compose.yml:4` → `.`. */
function folderOf(f: Finding): string {
  return dirname(f.source.replace(/:\d+$/, ""));
}

/**
 * The Compose projects among these files: in each folder, the project `docker compose` would
 * load there (COMPOSE_FILE, else the default file and its override); then every other Compose
 * file that no project read (`docker-compose.prod.yml`, say) on its own. A project whose files
 * another project already read (an `include`d one) is not listed twice: the projects that
 * read most are kept first. The environment's COMPOSE_FILE speaks for the scanned folder only;
 * a subfolder's comes from its own `.env`.
 */
function composeProjects(
  root: string,
  files: string[],
  env: Vars,
  label: (p: string) => string,
): ComposeProject[] {
  const { COMPOSE_FILE: _, COMPOSE_PATH_SEPARATOR: __, ...inner } = env;
  const envOf = (dir: string) => (dir === root ? env : inner);
  const dirs = new Set(files.map((f) => dirname(f)));
  const projects: ComposeProject[] = [];
  // The walk listed every file scan reads: no stat per candidate name.
  const listed = new Set(files);
  const exists = (path: string) => listed.has(path);
  for (const dir of dirs) {
    const chosen = composeFiles(dir, envOf(dir), { exists });
    if (chosen) projects.push(loadComposeProject(chosen, { env: envOf(dir), dir, label }));
  }
  const kept = new Set<ComposeProject>();
  const consumed = new Set<string>();
  for (const p of [...projects].sort((a, b) => b.read.length - a.read.length)) {
    if (p.files.every((f) => consumed.has(f))) continue;
    kept.add(p);
    for (const f of p.read) consumed.add(f);
  }
  const out = projects.filter((p) => kept.has(p));
  for (const file of files) {
    if (kindOf(file) !== "compose" || consumed.has(file)) continue;
    const dir = dirname(file);
    const p = loadComposeProject([file], { env: envOf(dir), dir, label });
    for (const f of p.read) consumed.add(f);
    out.push(p);
  }
  return out;
}
