// The single executable behind both names: `port-server` runs the daemon, anything else
// (`portctl`) runs the CLI. One binary on disk, hard-linked under both names.
import { basename } from "node:path";

const invokedAs = basename(process.argv0 || process.argv[0] || "");

if (invokedAs.startsWith("port-server")) {
  const { serverMain } = await import("./server/main.ts");
  await serverMain(process.argv.slice(2));
} else {
  const { cliMain } = await import("./cli/main.ts");
  await cliMain(process.argv.slice(2));
}
