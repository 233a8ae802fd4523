// Docs must only show commands portctl accepts: parse argv with the real parser (the command
// table and its flag converters) without running anything.
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { parseArgv } from "../../src/cli/parse.ts";

/** "ok" when a command would run, else the parser's error line. */
export function parseCli(argv: string[]): string {
  try {
    const parsed = parseArgv(argv, COMMANDS);
    return parsed.kind === "run" ? "ok" : "no command ran";
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}
