// Compose's merge rules for what scan needs (the `ports` of each service), as the Compose
// specification states them: a later file's or document's `ports` are appended to the earlier
// ones, an entry equal on {host IP, target, published, protocol} is kept once, `!reset` clears
// and `!override` replaces; `extends` merges the parent under the child by the same rules.
import { dirname, resolve } from "node:path";
import { interpolate, type Vars } from "./interpolate.ts";
import type { PublishedPort } from "./model.ts";
import { parsePortEntry } from "./ports.ts";
import type { Problem } from "./types.ts";
import { isObject, Located, plain, Tagged } from "./yaml.ts";

export interface PortList {
  mode: "append" | "reset" | "override";
  ports: PublishedPort[];
}

export interface Service {
  name: string;
  /** Undefined when this definition says nothing about ports (an override of other keys). */
  ports?: PortList;
  /** `!reset` / `!override` on the whole service. */
  mode?: "reset" | "override";
  /** `profiles:`, when this definition (or what it extends) names any. */
  profiles?: string[];
}

export type Services = Map<string, Service>;

/** How a document's services reach a service of another file (`extends: {file}`). */
export interface Resolver {
  vars: Vars;
  problems: Problem[];
  label: (path: string) => string;
  servicesOf: (path: string, from: string) => Services | undefined;
}

/** One document's `services:`, each with its `extends` resolved. */
export function documentServices(raw: unknown, file: string, r: Resolver): Services {
  const out: Services = new Map();
  const source = isObject(raw) ? raw : {};
  const resolving = new Set<string>();
  // null: a cycle, already reported
  const get = (name: string): Service | undefined | null => {
    const done = out.get(name);
    if (done) return done;
    if (!(name in source)) return undefined;
    if (resolving.has(name)) {
      warn(r, file, `extends: ${name} extends itself (through ${[...resolving].join(" → ")})`);
      return null;
    }
    resolving.add(name);
    const service = normalize(name, source[name], file, r, get);
    resolving.delete(name);
    out.set(name, service);
    return service;
  };
  for (const name of Object.keys(source)) get(name);
  return new Map(Object.keys(source).map((name) => [name, out.get(name) as Service]));
}

/** `later` merged onto `earlier` (a new map; neither is changed). */
export function mergeServices(earlier: Services, later: Services): Services {
  const out = new Map(earlier);
  for (const [name, s] of later) {
    const base = out.get(name);
    if (s.mode === "reset") out.delete(name);
    else if (!base || s.mode === "override")
      out.set(name, { name, ...(s.ports ? { ports: s.ports } : {}), ...withProfiles(s.profiles) });
    else
      out.set(name, {
        name,
        ...withPorts(mergePorts(base.ports, s.ports)),
        ...withProfiles(s.profiles ?? base.profiles),
      });
  }
  return out;
}

// --- internal ---

function mergePorts(earlier?: PortList, later?: PortList): PortList | undefined {
  if (!later) return earlier;
  if (!earlier || later.mode !== "append") return { mode: "append", ports: later.ports };
  const seen = new Set(earlier.ports.map(key));
  const ports = [...earlier.ports];
  for (const p of later.ports) {
    if (seen.has(key(p))) continue;
    seen.add(key(p));
    ports.push(p);
  }
  return { mode: "append", ports };
}

function normalize(
  name: string,
  value: unknown,
  file: string,
  r: Resolver,
  get: (name: string) => Service | undefined | null,
): Service {
  const tag = tagOf(value);
  const body = tag ? tag.value : value;
  const mode = tag ? { mode: tag.mode } : {};
  if (tag?.mode === "reset" || !isObject(body)) return { name, ...mode };
  const own = portList(name, body.ports, file, r);
  const parent = body.extends === undefined ? undefined : base(name, body.extends, file, r, get);
  const ports = parent ? mergePorts(parent.ports, own) : own;
  const profiles = profileList(body.profiles, r) ?? parent?.profiles;
  return { name, ...mode, ...withPorts(ports), ...withProfiles(profiles) };
}

/** `profiles: [debug, tools]`, interpolated; undefined when the key is absent. */
function profileList(value: unknown, r: Resolver): string[] | undefined {
  const items = plain(value);
  if (!Array.isArray(items)) return undefined;
  return items
    .filter((p): p is string => typeof p === "string")
    .map((p) => interpolate(p, r.vars).value)
    .filter(Boolean);
}

function withProfiles(profiles: string[] | undefined): { profiles?: string[] } {
  return profiles?.length ? { profiles } : {};
}

function portList(
  service: string,
  value: unknown,
  file: string,
  r: Resolver,
): PortList | undefined {
  if (value === undefined) return undefined;
  const tag = tagOf(value);
  const mode = tag?.mode ?? "append";
  const items = tag ? tag.value : value;
  if (mode === "reset" || !Array.isArray(items)) return { mode, ports: [] };
  const ports: PublishedPort[] = [];
  for (const item of items) {
    const parsed = parsePortEntry(item, r.vars);
    if ("ports" in parsed) ports.push(...parsed.ports);
    else {
      const line = item instanceof Located ? item.line : lineOf(item);
      warn(r, file, `${service}: ${parsed.warning}`, line);
    }
  }
  return { mode, ports };
}

/** The service `extends` names, from this document or from `file` (relative to this file). */
function base(
  child: string,
  value: unknown,
  file: string,
  r: Resolver,
  get: (name: string) => Service | undefined | null,
): Service | undefined {
  const spec = plain(value);
  const text = (v: unknown) => (typeof v === "string" ? interpolate(v, r.vars).value : undefined);
  const service =
    typeof spec === "string" ? text(spec) : text((spec as { service?: unknown })?.service);
  const other = typeof spec === "object" ? text((spec as { file?: unknown })?.file) : undefined;
  if (!service) {
    warn(r, file, `${child}: extends names no service`);
    return undefined;
  }
  if (!other) {
    const found = get(service);
    if (found === undefined) warn(r, file, `${child}: extends: no service ${service} in this file`);
    return found ?? undefined;
  }
  const path = resolve(dirname(file), other);
  const services = r.servicesOf(path, file);
  const found = services?.get(service);
  if (services && !found)
    warn(r, file, `${child}: extends: no service ${service} in ${r.label(path)}`);
  return found;
}

function tagOf(value: unknown): Tagged | undefined {
  const inner = value instanceof Located ? value.value : value;
  return inner instanceof Tagged ? inner : undefined;
}

function withPorts(ports: PortList | undefined): { ports?: PortList } {
  return ports ? { ports } : {};
}

function key(p: PublishedPort): string {
  return `${p.host_ip ?? ""}|${p.target ?? ""}|${p.host}|${p.protocol}`;
}

/** A long-syntax entry has no box of its own: the first line among its values. */
function lineOf(item: unknown): number | undefined {
  if (!isObject(item)) return undefined;
  const lines = Object.values(item).flatMap((v) => (v instanceof Located ? [v.line] : []));
  return lines.length ? Math.min(...lines) : undefined;
}

function warn(r: Resolver, file: string, message: string, line?: number): void {
  r.problems.push({
    source: line === undefined ? r.label(file) : `${r.label(file)}:${line}`,
    message,
    severity: "warning",
  });
}
