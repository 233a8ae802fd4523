// `portctl completion bash|zsh|fish` prints a completion script generated from the command
// table; `portctl completion services` prints this app's service names for the scripts.
import { CONNECT_TIMEOUT_MS } from "../../core/config.ts";
import { Client } from "../client.ts";
import { completionModel } from "../completion/model.ts";
import { completionScript, type Shell } from "../completion/scripts.ts";
import { detectApp } from "../detect.ts";
import type { Io } from "../io.ts";
import { COMMANDS } from "./index.ts";

export function completion(shell: Shell): (opts: unknown, io: Io) => Promise<number> {
  return async (_opts, io) => {
    // One write: the script is read by `eval`/`source`, line breaks and all.
    io.out(completionScript(shell, completionModel(COMMANDS)).trimEnd());
    return 0;
  };
}

/**
 * One service name a line, for `--service <TAB>`: the current app's, from the daemon, within a
 * short timeout so a stopped daemon never stalls the shell. Nothing (exit 0) when it is down.
 */
export async function completionServices(_opts: unknown, io: Io): Promise<number> {
  const timeout = Math.min(CONNECT_TIMEOUT_MS, 300);
  let app: string;
  try {
    app = detectApp(io.cwd);
  } catch {
    return 0; // a folder with no app name (/): nothing to offer, and nothing printed at a TAB
  }
  const rows = await new Client(io.env).list({ app }, timeout).catch(() => []);
  const names = [...new Set(rows.map((a) => a.service))].filter((n) => /^[\w.@+-]+$/.test(n));
  for (const name of names.sort()) io.out(name);
  return 0;
}
