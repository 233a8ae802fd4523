// `*_PORT=N` (and `PORT=N`) in .env files, values read with dotenv's parser.
import { parse } from "dotenv";
import { isPort } from "../config.ts";
import { interpolate, type Vars } from "./interpolate.ts";
import { at, type Finding, type ScanResult } from "./types.ts";

/** `POSTGRES_PORT` → `postgres`, `WEB_API_PORT` → `web-api`, `PORT` → `web`. */
export function serviceFromKey(key: string): string {
  const stem = key.replace(/_?PORT$/i, "");
  return stem ? stem.toLowerCase().replace(/_/g, "-") : "web";
}

export function scanEnvFile(text: string, file: string): ScanResult {
  const values = parse(text);
  const lines = text.split(/\r?\n/);
  const findings: Finding[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (!/(^|_)PORT$/i.test(key) || !/^\d{1,5}$/.test(value.trim())) continue;
    const port = Number(value);
    if (!isPort(port)) continue;
    // dotenv keeps the last definition, so point at that line (`KEY: value` is dotenv too).
    const defines = definition(key);
    const index = lines.findLastIndex((l) => defines.test(l));
    findings.push({
      port,
      service: serviceFromKey(key),
      source: at(file, index >= 0 ? index + 1 : undefined),
      protocol: "tcp",
      kind: "env",
    });
  }
  return { findings, problems: [] };
}

/**
 * The variables a Compose file next to this .env would see. As in Compose, a value may refer to
 * the environment and to keys defined above it (`COMPOSE_FILE=${COMPOSE_FILE:-dev/compose.yaml}`),
 * except a single-quoted one, which is literal.
 */
export function envVars(text: string, env: Vars = {}): Record<string, string> {
  const values = parse(text);
  const lines = text.split(/\r?\n/);
  const out: Record<string, string> = {};
  const scope: Vars = { ...env };
  for (const [key, value] of Object.entries(values)) {
    let v = value;
    if (value.includes("$")) {
      const defines = definition(key);
      const line = lines.findLast((l) => defines.test(l)) ?? "";
      if (!/^\s*'/.test(line.replace(defines, ""))) v = interpolate(value, scope).value;
    }
    out[key] = v;
    scope[key] = v;
  }
  return out;
}

// --- internal ---

/** `KEY=`, `export KEY=`, `KEY:` at the start of a line. */
function definition(key: string): RegExp {
  return new RegExp(`^\\s*(export\\s+)?${key.replace(/[.-]/g, "\\$&")}\\s*[=:]`);
}
