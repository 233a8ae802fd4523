// Docs must only show commands portctl accepts: parse argv with the real parser (commander and
// the same flag converters) and a runner that executes nothing.
import type { Io } from "../../src/cli/io.ts";
import { buildProgram } from "../../src/cli/program.ts";

/** "ok" when a command would run, else the parser's first error line. */
export async function parseCli(argv: string[]): Promise<string> {
  const errors: string[] = [];
  const io: Io = {
    out: () => {},
    err: (l) => errors.push(l),
    env: {},
    cwd: "/",
    home: "/",
    isTTY: false,
  };
  let ran = false;
  const program = buildProgram(io, async () => {
    ran = true;
    return 0;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    return errors[0] ?? String(err);
  }
  return ran ? "ok" : "no command ran";
}
