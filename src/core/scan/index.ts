// `portctl scan`: walks a project folder and collects host-bound ports from Compose files,
// .env files and package.json scripts. Reads only; a file that cannot be parsed is reported
// and the others are still scanned.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { scanCompose } from "./compose.ts";
import { envVars, scanEnvFile } from "./envfiles.ts";
import type { Vars } from "./interpolate.ts";
import { scanPackageJson } from "./scripts.ts";
import type { Finding, Problem, ScanResult } from "./types.ts";

export type { Finding, Problem, ScanResult } from "./types.ts";

export function scanProject(root: string, env: Vars = {}): ScanResult {
  const findings: Finding[] = [];
  const problems: Problem[] = [];
  const files = walk(root, 0);
  for (const kind of ["compose", "env", "script"] as const) {
    for (const path of files.filter((f) => kindOf(f) === kind)) {
      const rel = relative(root, path) || path;
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        problems.push({ source: rel, message: (err as Error).message, severity: "error" });
        continue;
      }
      const result =
        kind === "compose"
          ? scanCompose(text, rel, { ...dotenvBeside(path), ...env })
          : kind === "env"
            ? scanEnvFile(text, rel)
            : scanPackageJson(text, rel);
      findings.push(...result.findings);
      problems.push(...result.problems);
    }
  }
  return { findings, problems };
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

const MAX_DEPTH = 4;
const SKIP = new Set([
  "node_modules",
  ".git",
  "dist",
  "build",
  "vendor",
  "target",
  ".venv",
  "venv",
  ".next",
  "coverage",
]);

function kindOf(path: string): "compose" | "env" | "script" | null {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (/^(docker-)?compose([.-][^/]*)?\.ya?ml$/i.test(name)) return "compose";
  if (/^\.env(\..+)?$/.test(name)) return "env";
  if (name === "package.json") return "script";
  return null;
}

function walk(dir: string, depth: number): string[] {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isFile() && kindOf(path)) out.push(path);
    else if (e.isDirectory() && depth < MAX_DEPTH && !SKIP.has(e.name))
      out.push(...walk(path, depth + 1));
  }
  return out;
}

/** Compose reads `.env` from the Compose file's folder for interpolation. */
function dotenvBeside(composePath: string): Vars {
  try {
    return envVars(readFileSync(join(dirname(composePath), ".env"), "utf8"));
  } catch {
    return {};
  }
}
