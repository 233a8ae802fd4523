// Host-bound ports in a Compose file: short syntax (`"8080:80"`, `"127.0.0.1:8080:80"`,
// `"[::1]:6001:6001"`, `"9090-9091:8080-8081"`, `/udp`) and long syntax (`published:`). A bare
// container port (`"3001"`), an empty host port (`"127.0.0.1::80"`) and `expose:` are not
// host-bound, so they are never reported.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { serviceFromKey } from "./envfiles.ts";
import { interpolate, type Vars } from "./interpolate.ts";
import { at, type Finding, type Problem, type ScanResult } from "./types.ts";

export function scanCompose(text: string, file: string, vars: Vars): ScanResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const problems: Problem[] = [];
  const findings: Finding[] = [];
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const message =
      error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "invalid YAML";
    return {
      findings,
      problems: [{ source: at(file, pos?.line, pos?.col), message, severity: "error" }],
    };
  }
  const services = doc.get("services", true);
  if (!isMap(services)) return { findings, problems };
  for (const pair of services.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : "";
    const ports = isMap(pair.value) ? pair.value.get("ports", true) : undefined;
    if (!name || !isSeq(ports)) continue;
    const found: (Mapping & { source: string })[] = [];
    for (const item of ports.items as Node[]) {
      const line = item.range ? lines.linePos(item.range[0]).line : undefined;
      const source = at(file, line);
      const entry = isMap(item)
        ? longSyntax(item.toJSON(), vars)
        : shortSyntax(scalarText(item), vars);
      if ("warning" in entry)
        problems.push({ source, message: `${name}: ${entry.warning}`, severity: "warning" });
      else for (const m of entry.mappings) found.push({ ...m, source });
    }
    const single = new Set(found.map((m) => m.host)).size === 1;
    for (const m of found) {
      findings.push({
        port: m.host,
        service: m.key ? serviceFromKey(m.key) : single ? name : `${name}-${m.target ?? m.host}`,
        source: m.source,
        protocol: m.protocol,
        kind: "compose",
        ...(m.ip ? { host_ip: m.ip } : {}),
      });
    }
  }
  return { findings, problems };
}

// --- internal ---

interface Mapping {
  host: number;
  target?: number;
  protocol: "tcp" | "udp";
  ip?: string;
  /** The variable the host port comes from (`${POSTGRES_PORT:-5432}`), so `portctl env` round-trips. */
  key?: string;
}

type Parsed = { mappings: Mapping[] } | { warning: string };

function scalarText(node: Node): string {
  return isScalar(node) ? String(node.value) : "";
}

function shortSyntax(raw: string, vars: Vars): Parsed {
  const { value, missing } = interpolate(raw.trim(), vars);
  if (missing.length) return { warning: `"${raw}": ${missing.join(", ")} not set and no default` };
  const [spec = "", proto = "tcp"] = value.split("/");
  const protocol = proto.toLowerCase() === "udp" ? "udp" : "tcp";
  let ip: string | undefined;
  let rest = spec;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(spec);
  if (bracketed) [, ip, rest] = bracketed as unknown as [string, string, string];
  const parts = rest.split(":");
  if (!bracketed && parts.length > 3) ip = parts.splice(0, parts.length - 2).join(":");
  else if (!bracketed && parts.length === 3) ip = parts.shift();
  if (parts.length < 2) return { mappings: [] }; // container port only: Docker picks the host port
  const [hostText = "", targetText = ""] = parts;
  if (hostText === "") return { mappings: [] };
  return withKey(expand(hostText, targetText, protocol, ip, raw), raw);
}

function longSyntax(entry: Record<string, unknown>, vars: Vars): Parsed {
  const published = entry.published;
  if (published === undefined || published === null || published === "") return { mappings: [] };
  const { value, missing } = interpolate(String(published), vars);
  if (missing.length)
    return { warning: `published "${published}": ${missing.join(", ")} not set and no default` };
  const protocol = String(entry.protocol ?? "tcp").toLowerCase() === "udp" ? "udp" : "tcp";
  const ip = typeof entry.host_ip === "string" ? interpolate(entry.host_ip, vars).value : undefined;
  const parsed = expand(
    value,
    String(entry.target ?? ""),
    protocol,
    ip || undefined,
    `published: ${published}`,
  );
  return withKey(parsed, String(published));
}

/** A single host port taken from a `*_PORT` variable is named after that variable. */
function withKey(parsed: Parsed, raw: string): Parsed {
  const key = /\$\{?([A-Za-z_][A-Za-z0-9_]*PORT)\b/i.exec(raw)?.[1];
  if (!key || "warning" in parsed || parsed.mappings.length !== 1) return parsed;
  return { mappings: parsed.mappings.map((m) => ({ ...m, key })) };
}

function expand(
  hostText: string,
  targetText: string,
  protocol: "tcp" | "udp",
  ip: string | undefined,
  raw: string,
): Parsed {
  const host = range(hostText);
  const target = targetText === "" ? null : range(targetText);
  if (!host) return { warning: `"${raw}": "${hostText}" is not a port or port range` };
  const count = host.hi - host.lo + 1;
  const targetCount = target ? target.hi - target.lo + 1 : count;
  if (count > 1 && targetCount !== count) {
    return {
      warning: `"${raw}": a host range for one container port lets Docker pick; register the port it uses`,
    };
  }
  const mappings: Mapping[] = [];
  for (let i = 0; i < count; i++) {
    mappings.push({
      host: host.lo + i,
      ...(target ? { target: target.lo + (targetCount === count ? i : 0) } : {}),
      protocol,
      ...(ip ? { ip: ip.replace(/^\[|\]$/g, "") } : {}),
    });
  }
  return { mappings };
}

function range(text: string): { lo: number; hi: number } | null {
  const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  return lo >= 1 && hi <= 65535 && lo <= hi ? { lo, hi } : null;
}
