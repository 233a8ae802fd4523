// The ports a project declares, as a session start allocates them: each host-port variable of
// its Compose stack (the names `scan --register` and `run -- docker compose up` use, the file's
// number first), and the dev server `portctl run` would start at its top (service `web`, when
// package.json has a dev or start script).
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { RUN_DEFAULT_SERVICE } from "../../core/config.ts";
import { composeProjectAt } from "../../core/scan/project.ts";
import type { StackPort } from "../run/compose.ts";
import { stackPorts } from "../run/compose.ts";

export interface Declared {
  ports: StackPort[];
  /** Why something the project holds was not allocated, one line each. */
  notes: string[];
}

export function declaredPorts(top: string, env: Record<string, string | undefined>): Declared {
  const ports: StackPort[] = [];
  const notes: string[] = [];
  const project = composeProjectAt(top, { env });
  const error = project?.problems.find((p) => p.severity === "error");
  if (project && error) notes.push(`Compose file not read: ${error.source}: ${error.message}`);
  else if (project) {
    for (const port of stackPorts(project, (p) => relative(top, p) || p)) {
      if (port.variable) ports.push(port);
      else notes.push(`${port.service}: host port ${port.preferred} is a number in ${port.source}`);
    }
  }
  if (hasDevScript(top) && !ports.some((p) => p.service === RUN_DEFAULT_SERVICE)) {
    ports.push({ service: RUN_DEFAULT_SERVICE, source: "package.json" });
  }
  return { ports, notes };
}

// --- internal ---

function hasDevScript(top: string): boolean {
  const file = join(top, "package.json");
  if (!existsSync(file)) return false;
  try {
    const scripts = (JSON.parse(readFileSync(file, "utf8")) as { scripts?: unknown }).scripts;
    return (
      typeof scripts === "object" && scripts !== null && ("dev" in scripts || "start" in scripts)
    );
  } catch {
    return false;
  }
}
