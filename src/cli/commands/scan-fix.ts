// `portctl scan --fix [--dry-run]`: literal Compose host ports become `${SERVICE_PORT:-N}`, printed
// as a diff per port; each file is replaced whole (temp file + rename) or left as it was.
import { realpathSync, statSync } from "node:fs";
import { fileError } from "../../core/errors.ts";
import { writeAtomic } from "../../core/files.ts";
import { planFixes } from "../../core/scan/fix.ts";
import { type ComposeProject, labelUnder } from "../../core/scan/index.ts";
import { envKey } from "../envfile.ts";
import type { Io } from "../io.ts";
import { colors, safe } from "../output.ts";

/** Prints and (unless `dryRun`) applies the rewrite; true when some file was left untouched. */
export async function fixCompose(
  projects: ComposeProject[],
  root: string,
  dryRun: boolean,
  io: Io,
): Promise<boolean> {
  const c = colors(io);
  const label = labelUnder(root);
  const fixes = planFixes(projects, envKey);
  let ports = 0;
  let files = 0;
  for (const fix of fixes) {
    if (fix.refused !== undefined || fix.text === undefined) {
      io.err(
        `${c.yellow("warning:")} ${safe(`${label(fix.file)} left untouched: ${fix.refused}`)}`,
      );
      continue;
    }
    for (const e of fix.edits) {
      io.out(
        safe(
          `${label(fix.file)}:${e.line} ${e.service} → ${e.key}${e.endKey ? `-${e.endKey}` : ""}`,
        ),
      );
      io.out(c.red(safe(`-${e.before}`)));
      io.out(c.green(safe(`+${e.after}`)));
    }
    if (!dryRun) write(fix.file, fix.text);
    ports += fix.edits.length;
    files++;
  }
  const counted = `${ports} port${ports === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}`;
  if (ports === 0) io.out("no literal host ports to rewrite");
  else if (dryRun) io.out(`would rewrite ${counted}; nothing written (--dry-run)`);
  else io.out(`rewrote ${counted}; the old numbers stay the defaults`);
  return fixes.some((f) => f.refused !== undefined);
}

// --- internal ---

/** The new text beside the file, then renamed over it: never a half-written Compose file. */
function write(target: string, text: string): void {
  const path = realpathSync(target);
  try {
    writeAtomic(path, text, statSync(path).mode & 0o777);
  } catch (err) {
    throw fileError("write", path, err);
  }
}
