// Ports fixed in package.json scripts: `--port N`, `--port=N`, `-p N` (also docker's
// `-p [IP:]8080:80`, host side; never its container-only `-p 80`) and `PORT=N`.
import { basename } from "node:path";
import { isPort, RUN_DEFAULT_SERVICE } from "../config.ts";
import { locate } from "./json.ts";
import { at, type Finding, type ScanResult } from "./types.ts";

export function scanPackageJson(text: string, file: string): ScanResult {
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch {
    const { line, column, message } = locate(text);
    return {
      findings: [],
      problems: [{ source: at(file, line, column), message, severity: "error" }],
    };
  }
  const scripts = (pkg as { scripts?: unknown })?.scripts;
  if (!scripts || typeof scripts !== "object") return { findings: [], problems: [] };
  const findings: Finding[] = [];
  const lineOf = stringLines(text);
  const folder = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
  for (const [name, command] of Object.entries(scripts as Record<string, unknown>)) {
    if (typeof command !== "string") continue;
    const ports = portsIn(command);
    const index = lineOf.get(JSON.stringify(name)) ?? -1;
    ports.forEach((port, i) => {
      findings.push({
        port,
        service: i === 0 ? scriptService(folder, name) : `${scriptService(folder, name)}-${i + 1}`,
        source: at(file, index >= 0 ? index + 1 : undefined),
        protocol: "tcp",
        kind: "script",
      });
    });
  }
  return { findings, problems: [] };
}

/** The scripts that start a package's dev server: their port is the package's own service. */
const MAIN_SCRIPTS = new Set(["dev", "start", "serve"]);

/**
 * The service a package.json script's port belongs to, one rule for `scan --register` and
 * `portctl run -- npm run <script>`: the package's name for its dev server (`web` at the top
 * of the repository, else its folder's name: `apps/admin` → `admin`) for dev, start and serve,
 * and `<that>-<script>` for any other script (`web-storybook`). `folder` is the package's
 * folder from the top ("" for the top itself).
 */
export function scriptService(folder: string, script: string): string {
  const base = folder === "" || folder === "." ? RUN_DEFAULT_SERVICE : basename(folder);
  return MAIN_SCRIPTS.has(script) ? base : `${base}-${script}`;
}

/** Distinct fixed ports in a shell command line, in order of appearance. */
export function portsIn(command: string): number[] {
  const found: number[] = [];
  for (const segment of command.split(/[;&|]/)) {
    const docker = /\b(docker|podman)\b/.test(segment);
    for (const m of segment.matchAll(PATTERN)) {
      // `docker run -p 80` publishes container port 80 on a host port Docker picks: not ours.
      if (m[2] && docker && !m[3]) continue;
      const port = Number(m[1] ?? m[2] ?? m[4]);
      if (isPort(port) && !found.includes(port)) found.push(port);
    }
  }
  return found;
}

// --- internal ---

/**
 * Each JSON string as written (quotes included) → the first line at or after `"scripts":` that
 * holds it, in one pass: a search per script was quadratic, and a repository's package.json of
 * a few thousand scripts held scan for minutes.
 */
function stringLines(text: string): Map<string, number> {
  const lines = text.split(/\r?\n/);
  const first = new Map<string, number>();
  const start = lines.findIndex((l) => /"scripts"\s*:/.test(l));
  for (let i = Math.max(start, 0); i < lines.length; i++) {
    for (const [token] of (lines[i] as string).matchAll(/"(?:[^"\\]|\\.)*"/g)) {
      if (!first.has(token)) first.set(token, i);
    }
  }
  return first;
}

/** Groups: 1 `--port N`, 2 `-p [IP:]N`, 3 the `:` of docker's HOST:CONTAINER, 4 `PORT=N`. */
const PATTERN =
  /(?:^|[\s(])(?:--port[=\s]\s*(\d{1,5})|-p\s+(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[\dA-Fa-f:]+\]):)?(\d{1,5})(?=(:?))(?=[\s:)]|$)|PORT=(\d{1,5}))(?=[\s):]|$)/g;
