import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileReason, PortError } from "../../core/errors.ts";
import {
  AGENT_HOSTS,
  type InstallResult,
  installGlobal,
  installLocal,
} from "../../skill/install.ts";
import { findCheckout } from "../detect.ts";
import type { Io } from "../io.ts";
import { colors, safe, shellWords } from "../output.ts";

/** Exit 0 when every attempted target was written; 1 when one failed (the others still are). */
export async function skillInstall(
  opts: { global?: boolean; dir?: string; plugin?: string },
  io: Io,
): Promise<number> {
  if (opts.plugin !== undefined) {
    if (opts.global) throw new PortError("bad_request", "--plugin and --global: pass one");
    const dir = resolve(io.cwd, opts.plugin);
    const { installPlugin } = await import("../../skill/plugin.ts");
    try {
      installPlugin(dir);
    } catch (err) {
      if (err instanceof PortError) throw err;
      throw new PortError("bad_request", `cannot write ${dir}: ${fileReason(err, true)}`);
    }
    io.out(`wrote the port-server Claude Code plugin (skill, MCP server, hooks) in ${safe(dir)}`);
    io.out(`try it: claude --plugin-dir ${safe(shellWords([dir]))}`);
    return 0;
  }
  const results = opts.global
    ? installGlobal(io.home)
    : installLocal(project(opts.dir, io), io.home);
  const c = colors(io);
  for (const r of results) report(r, io, c);
  // Asked to install and nothing was: a script or make target must not take that for success.
  if (opts.global && results.every((r) => r.status === "skipped")) {
    const folders = AGENT_HOSTS.map((h) => `~/${h.folder}`).join(", ");
    io.err(
      `error: no agent host found in your home folder (${folders}); nothing installed (install the agent first, or run skill install in a project)`,
    );
    return 1;
  }
  return results.some((r) => r.status === "failed") ? 1 : 0;
}

// --- internal ---

/**
 * DIR, else the top folder of the repository around the current folder (where an agent started
 * in the project looks, and what doctor checks), else the current folder; as scan chooses.
 */
function project(dir: string | undefined, io: Io): string {
  if (dir === undefined) {
    const top = findCheckout(io.cwd)?.top;
    if (top && top !== resolve(io.cwd)) {
      io.err(safe(`installing in ${top} (the repository's top folder)`));
      return top;
    }
  }
  const root = resolve(io.cwd, dir ?? ".");
  if (!existsSync(root)) throw new PortError("bad_request", `no such folder: ${root}`);
  if (!statSync(root).isDirectory()) {
    throw new PortError("bad_request", `${root} is a file; skill install takes a project folder`);
  }
  return root;
}

function report(r: InstallResult, io: Io, c: ReturnType<typeof colors>): void {
  // Paths come from the file system (a home or project folder can be named anything).
  const seen = r.hosts.length > 0 ? `: seen by ${r.hosts.join(", ")}` : "";
  if (r.status === "installed")
    io.out(`${c.green("installed")} port-manager skill in ${safe(r.dir)}${seen}`);
  else if (r.status === "removed")
    io.out(`${c.dim("removed")} the older copy in ${safe(r.dir)} (${safe(r.reason ?? "")})`);
  else if (r.status === "skipped")
    io.out(`${c.dim("skipped")} ${safe(r.dir)}: ${safe(r.reason ?? "host not found")}`);
  else io.err(`${c.red("failed")} ${safe(r.dir)}: ${safe(r.error ?? `cannot write ${r.dir}`)}`);
}
