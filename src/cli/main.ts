// The `portctl` entry: the only place in the CLI that ends the process.
import { processIo } from "./io.ts";
import { runCli } from "./program.ts";

export async function cliMain(argv: string[]): Promise<void> {
  const io = await processIo();
  const code = await runCli(argv, io);
  io.flush?.();
  process.exit(code);
}

if (import.meta.main) await cliMain(process.argv.slice(2));
