// One `ports:` entry → the host ports it publishes. Short syntax (`"8080:80"`,
// `"127.0.0.1:8080:80"`, `"[::1]:6001:6001"`, `"9090-9091:8080-8081"`, `/udp`) and long syntax
// (`published:`). A bare container port (`"3001"`), an empty host port (`"127.0.0.1::80"`) and
// `expose:` are not host-bound: nothing. A message never contains a variable's value (it may
// be a secret): it quotes the entry as written and names the variable.
import { isIP } from "node:net";
import { isPort } from "../config.ts";
import { interpolate, origin, type Part, type Vars } from "./interpolate.ts";
import type { PublishedPort } from "./model.ts";
import { isObject, Located, plain } from "./yaml.ts";

export type Parsed = { ports: PublishedPort[] } | { warning: string };

export function parsePortEntry(entry: unknown, vars: Vars): Parsed {
  if (isObject(entry)) return longSyntax(entry, vars);
  if (!(entry instanceof Located)) return { ports: [] };
  if (typeof entry.value === "number") return { ports: [] }; // `- 3100`: container port only
  if (typeof entry.value !== "string") return { ports: [] };
  return shortSyntax(entry.value, entry, vars);
}

// --- internal ---

interface Where {
  node: Located;
  /** The entry as written, quoted in messages. */
  quote: string;
  /** The value of `node` the host port is read from. */
  text: string;
}

function shortSyntax(raw: string, node: Located, vars: Vars): Parsed {
  const where: Where = { node, quote: `"${raw}"`, text: raw };
  const result = interpolate(raw.trim(), vars);
  const trimmed = raw.length - raw.trimStart().length;
  const bad = problemOf(result, where.quote);
  if (bad) return bad;
  const value = result.value;
  const slash = value.lastIndexOf("/");
  const spec = slash >= 0 ? value.slice(0, slash) : value;
  const protocol = slash >= 0 && value.slice(slash + 1).toLowerCase() === "udp" ? "udp" : "tcp";
  const fields = spec.split(":");
  if (fields.length < 2) return { ports: [] }; // container port only: Docker picks the host port
  const hostText = fields[fields.length - 2] as string;
  const targetText = fields[fields.length - 1] as string;
  if (hostText === "") return { ports: [] };
  const ipText = fields.slice(0, -2).join(":");
  const hostStart = ipText === "" ? 0 : ipText.length + 1;
  const from = origin(result.parts, hostStart, hostStart + hostText.length);
  const ip = checkIp(ipText, result.parts, where.quote);
  if (typeof ip === "object") return ip;
  return expand({
    hostText,
    targetText,
    protocol,
    ip,
    from,
    part: (a, b) => origin(result.parts, hostStart + a, hostStart + b),
    where,
    shift: trimmed,
  });
}

function longSyntax(entry: Record<string, unknown>, vars: Vars): Parsed {
  const published = entry.published;
  if (!(published instanceof Located)) return { ports: [] };
  const raw = String(published.value ?? "");
  if (raw === "") return { ports: [] };
  const where: Where = { node: published, quote: `published: ${raw}`, text: raw };
  const result = interpolate(raw, vars);
  const bad = problemOf(result, where.quote);
  if (bad) return bad;
  const protocol = String(plain(entry.protocol) ?? "tcp").toLowerCase() === "udp" ? "udp" : "tcp";
  let ip: string | undefined;
  const hostIp = entry.host_ip;
  if (hostIp instanceof Located && typeof hostIp.value === "string") {
    const r = interpolate(hostIp.value, vars);
    const checked = checkIp(r.value, r.parts, `host_ip: ${hostIp.value}`);
    if (typeof checked === "object") return checked;
    ip = checked;
  }
  const target = plain(entry.target);
  return expand({
    hostText: result.value,
    targetText: target === undefined || target === null ? "" : String(target),
    protocol,
    ip,
    from: origin(result.parts, 0, result.value.length),
    part: (a, b) => origin(result.parts, a, b),
    where,
    shift: 0,
  });
}

function problemOf(r: ReturnType<typeof interpolate>, quote: string): Parsed | null {
  if (r.invalid) return { warning: `${quote}: ${r.invalid}` };
  if (r.missing.length)
    return { warning: `${quote}: ${r.missing.join(", ")} not set and no default` };
  return null;
}

/** The host IP without brackets; a warning when it is not an address. */
function checkIp(text: string, parts: Part[], quote: string): string | undefined | Parsed {
  const ip = text.replace(/^\[|\]$/g, "");
  if (ip === "") return undefined;
  if (isIP(ip)) return ip;
  const from = origin(parts, 0, parts.map((p) => p.text).join("").length);
  const what = from.literal ? `"${ip}"` : `the value of ${from.names.join(", ")}`;
  return { warning: `${quote}: ${what} is not an IP address` };
}

interface Spec {
  hostText: string;
  targetText: string;
  protocol: "tcp" | "udp";
  ip: string | undefined;
  from: ReturnType<typeof origin>;
  /** What produced `hostText.slice(a, b)`. */
  part: (a: number, b: number) => ReturnType<typeof origin>;
  where: Where;
  /** Leading spaces trimmed off the raw text before it was read. */
  shift: number;
}

function expand(s: Spec): Parsed {
  const { where, from } = s;
  const host = range(s.hostText);
  const target = s.targetText === "" ? null : range(s.targetText);
  if (!host) {
    const what = from.literal ? `"${s.hostText}"` : `the value of ${from.names.join(", ")}`;
    return { warning: `${where.quote}: ${what} is not a port or port range` };
  }
  const count = host.hi - host.lo + 1;
  const targetCount = target ? target.hi - target.lo + 1 : count;
  if (count > 1 && targetCount !== count) {
    return {
      warning: `${where.quote}: a host range for one container port lets Docker pick; register the port it uses`,
    };
  }
  const ports: PublishedPort[] = [];
  const block = count > 1 ? rangeOf(s, host.lo, count) : undefined;
  for (let i = 0; i < count; i++) {
    ports.push({
      host: host.lo + i,
      ...(target ? { target: target.lo + (targetCount === count ? i : 0) } : {}),
      protocol: s.protocol,
      ...(s.ip ? { host_ip: s.ip } : {}),
      file: where.node.file,
      line: where.node.line,
      offset: where.node.offset,
      text: where.text,
      ...(from.variable && count === 1
        ? {
            variable: {
              name: from.variable.name,
              ...(from.variable.default !== undefined ? { default: from.variable.default } : {}),
            },
          }
        : {}),
      variables: from.names,
      ...(from.raw && count === 1
        ? { hostSpan: [from.raw[0] + s.shift, from.raw[1] + s.shift] as [number, number] }
        : {}),
      ...(block ? { range: block } : {}),
    });
  }
  return { ports };
}

/**
 * A host range's two ends: both set by one variable each (a block moves it), or both written
 * as numbers (`scan --fix` can rewrite it), else neither.
 */
function rangeOf(s: Spec, first: number, count: number): PublishedPort["range"] {
  const dash = s.hostText.indexOf("-");
  const lo = s.part(0, dash);
  const hi = s.part(dash + 1, s.hostText.length);
  const end = (o: typeof lo) =>
    o.variable
      ? {
          name: o.variable.name,
          ...(o.variable.default !== undefined ? { default: o.variable.default } : {}),
        }
      : undefined;
  const start = end(lo);
  const last = end(hi);
  if (start && last) return { first, count, variables: { start, end: last } };
  const whole = s.from.raw;
  if (s.from.literal && whole) {
    return { first, count, span: [whole[0] + s.shift, whole[1] + s.shift] };
  }
  return { first, count };
}

function range(text: string): { lo: number; hi: number } | null {
  const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  return isPort(lo) && isPort(hi) && lo <= hi ? { lo, hi } : null;
}
