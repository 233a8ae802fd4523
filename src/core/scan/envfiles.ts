// `*_PORT=N` (and `PORT=N`) in .env files, values read with dotenv's parser.
import { parse } from "dotenv";
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
    if (port < 1 || port > 65535) continue;
    // dotenv keeps the last definition, so point at that line (`KEY: value` is dotenv too).
    const defines = new RegExp(`^\\s*(export\\s+)?${key.replace(/[.-]/g, "\\$&")}\\s*[=:]`);
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

/** The variables a Compose file next to this .env would see. */
export function envVars(text: string): Record<string, string> {
  return parse(text);
}
