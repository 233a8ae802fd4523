// The single executable behind both names: `port-server` runs the daemon, anything else
// (`portctl`) runs the CLI. One binary on disk, hard-linked under both names.
// The name without its folder, by hand: loading node:path costs a cold `portctl` ~0.5 ms.
const path = process.argv0 || process.argv[0] || "";
const invokedAs = path.slice(path.lastIndexOf("/") + 1);

if (invokedAs.startsWith("port-server")) {
  const { serverMain } = await import("./server/main.ts");
  await serverMain(process.argv.slice(2));
} else {
  const { cliMain } = await import("./cli/main.ts");
  await cliMain(process.argv.slice(2));
}

// A module (for the top-level await) although it imports nothing.
export {};
