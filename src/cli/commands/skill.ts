import {
  AGENT_HOSTS,
  type InstallResult,
  installGlobal,
  installLocal,
} from "../../skill/install.ts";
import type { Io } from "../io.ts";
import { colors, safe } from "../output.ts";

/** Exit 0 when every attempted target was written; 1 when one failed (the others still are). */
export async function skillInstall(opts: { global?: boolean }, io: Io): Promise<number> {
  const results = opts.global ? installGlobal(io.home) : installLocal(io.cwd, io.home);
  const c = colors(io);
  for (const r of results) report(r, io, c);
  if (opts.global && results.every((r) => r.status === "skipped")) {
    const folders = AGENT_HOSTS.map((h) => `~/${h.folder}`).join(", ");
    io.err(`no agent host found in your home folder (${folders}); nothing installed`);
  }
  return results.some((r) => r.status === "failed") ? 1 : 0;
}

// --- internal ---

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
