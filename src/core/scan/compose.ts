// A Compose project's published ports as scan findings: one per host port, named after the
// service (or `service-<target>` when a service publishes several), or after the `*_PORT`
// variable that sets it, so `portctl env` writes back the key the file reads.
import { resolve } from "node:path";
import { serviceFromKey } from "./envfiles.ts";
import type { Vars } from "./interpolate.ts";
import type { ComposeProject } from "./model.ts";
import { loadComposeProject } from "./project.ts";
import { at, type Finding, type ScanResult } from "./types.ts";

export function composeFindings(
  project: ComposeProject,
  label: (path: string) => string,
): Finding[] {
  const findings: Finding[] = [];
  for (const service of project.services) {
    const single = new Set(service.ports.map((p) => p.host)).size === 1;
    for (const p of service.ports) {
      const key = p.variable && /(^|_)PORT$/i.test(p.variable.name) ? p.variable.name : undefined;
      findings.push({
        port: p.host,
        service: key
          ? serviceFromKey(key)
          : single
            ? service.name
            : `${service.name}-${p.target ?? p.host}`,
        source: at(label(p.file), p.line),
        protocol: p.protocol,
        kind: "compose",
        ...(p.host_ip ? { host_ip: p.host_ip } : {}),
      });
    }
  }
  return findings;
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
