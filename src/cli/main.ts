// The `portctl` entry: the only place in the CLI that ends the process.
import { processIo } from "./io.ts";
import { runCli } from "./program.ts";

export async function cliMain(argv: string[]): Promise<void> {
  const code = await runCli(argv, processIo());
  // Let stdout drain (it may be a pipe) before leaving.
  process.exitCode = code;
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(code);
}

if (import.meta.main) await cliMain(process.argv.slice(2));
