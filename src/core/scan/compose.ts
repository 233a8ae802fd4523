// A Compose project's published ports as scan findings: one per host port, named after the
// service (or `service-<target>` when a service publishes several), or after the `*_PORT`
// variable that sets it, so `portctl env` writes back the key the file reads.
import { resolve } from "node:path";
import { serviceFromKey } from "./envfiles.ts";
import type { Vars } from "./interpolate.ts";
import type { ComposeProject, ComposeService, PublishedPort } from "./model.ts";
import { loadComposeProject } from "./project.ts";
import { at, type Finding, type ScanResult } from "./types.ts";

/** A published port with the Compose service it belongs to and the finding scan makes of it. */
export interface NamedPort {
  service: ComposeService;
  port: PublishedPort;
  finding: Finding;
}

export function composeFindings(
  project: ComposeProject,
  label: (path: string) => string,
): Finding[] {
  return namedPorts(project, label).map((n) => n.finding);
}

/**
 * Every published port of the project, in service order, paired with its finding: the names
 * `scan --register` registers, which `scan --fix` and `run -- docker compose` must use too.
 */
export function namedPorts(project: ComposeProject, label: (path: string) => string): NamedPort[] {
  const out: NamedPort[] = [];
  for (const service of project.services) {
    const hosts = new Set(service.ports.map((p) => p.host));
    // Several host ports: told apart by container port, or by host port when two share one
    // (`8080:80` in the base file, `8081:80` in the override).
    const byTarget = new Set(service.ports.map((p) => p.target ?? p.host)).size === hosts.size;
    for (const p of service.ports) {
      const key = p.variable && /(^|_)PORT$/i.test(p.variable.name) ? p.variable.name : undefined;
      const suffix = byTarget ? (p.target ?? p.host) : p.host;
      const finding: Finding = {
        port: p.host,
        service: key
          ? serviceFromKey(key)
          : hosts.size === 1
            ? service.name
            : `${service.name}-${suffix}`,
        source: at(label(p.file), p.line),
        protocol: p.protocol,
        kind: "compose",
        ...(p.host_ip ? { host_ip: p.host_ip } : {}),
        ...(service.profiles.length ? { profiles: service.profiles } : {}),
      };
      out.push({ service, port: p, finding });
    }
  }
  return out;
}

/** One Compose file's text on its own (no `.env`, no other file): for tests and tools. */
export function scanCompose(text: string, file: string, vars: Vars): ScanResult {
  const path = resolve("/", file);
  const read = (p: string) => {
    if (p === path) return text;
    throw Object.assign(new Error("no such file"), { code: "ENOENT" });
  };
  const label = (p: string) => (p === path ? file : p);
  const project = loadComposeProject([path], { env: vars, read, label });
  return { findings: composeFindings(project, label), problems: project.problems };
}
