// The ports a project declares, as a session start allocates them: each host-port variable of
// its Compose stack (the names `scan --register` and `run -- docker compose up` use, the file's
// number first), and the dev server `portctl run` would start at its top (service `web`, when
// package.json has a dev or start script).
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { RUN_DEFAULT_SERVICE } from "../../core/config.ts";
import { PortError } from "../../core/errors.ts";
import { composeProjectAt } from "../../core/scan/project.ts";
import { loadStack, type StackPort, stackPorts } from "../run/compose.ts";

export interface Declared {
  ports: StackPort[];
  /** Why something the project holds was not allocated, one line each. */
  notes: string[];
}

export function declaredPorts(top: string, env: Record<string, string | undefined>): Declared {
  const ports: StackPort[] = [];
  const notes: string[] = [];
  if (composeProjectAt(top, { env })) {
    try {
      const stack = loadStack([], top, env);
      for (const port of stackPorts(stack, (p) => relative(top, p) || p)) {
        if (port.variable) ports.push(port);
        else
          notes.push(`${port.service}: host port ${port.preferred} is a number in ${port.source}`);
      }
    } catch (err) {
      if (!(err instanceof PortError)) throw err;
      notes.push(`Compose file not read: ${err.message}`);
    }
  }
  if (hasDevScript(top) && !ports.some((p) => p.service === RUN_DEFAULT_SERVICE)) {
    ports.push({ service: RUN_DEFAULT_SERVICE, source: "package.json", profiles: [] });
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
