import { type InstallResult, installGlobal, installLocal } from "../../skill/install.ts";
import type { Io } from "../io.ts";
import { colors, safe } from "../output.ts";

/** Exit 0 when every attempted target was written; 1 when one failed (the others still are). */
export async function skillInstall(opts: { global?: boolean }, io: Io): Promise<number> {
  const results = opts.global ? installGlobal(io.home) : [installLocal(io.cwd, io.home)];
  const c = colors(io);
  for (const r of results) report(r, io, c);
  if (opts.global && results.every((r) => r.status === "skipped")) {
    io.err("no agent platform found (~/.claude, ~/.codex, ~/.agents); nothing installed");
  }
  return results.some((r) => r.status === "failed") ? 1 : 0;
}

// --- internal ---

function report(r: InstallResult, io: Io, c: ReturnType<typeof colors>): void {
  // Paths come from the file system (a home or project folder can be named anything).
  if (r.status === "installed")
    io.out(`${c.green("installed")} port-manager skill for ${r.platform} in ${safe(r.dir)}`);
  else if (r.status === "skipped")
    io.out(`${c.dim("skipped")} ${r.platform}: ${safe(r.reason ?? "platform not found")}`);
  else io.err(`${c.red("failed")} ${r.platform}: ${safe(r.error ?? `cannot write ${r.dir}`)}`);
}
