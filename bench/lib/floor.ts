// Builds the floor reference (bench/floor-client.ts) into a temp dir, once per run, as
// scripts/build.ts builds portctl: minified, bytecode, no .env or bunfig.toml autoloading.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "./procs.ts";

let built: string | undefined;

/** The path of the compiled floor client. */
export async function floorClient(): Promise<string> {
  // cleanup() removes temp dirs after each benchmark: build again when it is gone.
  if (built && existsSync(built)) return built;
  const outfile = join(tempDir("floor"), "floor-client");
  await Bun.build({
    entrypoints: [join(ROOT, "bench", "floor-client.ts")],
    minify: true,
    bytecode: true,
    format: "esm",
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  });
  built = outfile;
  return outfile;
}
