// The daemon as src/server/main.ts runs it, except that it asks the kernel nothing about its
// clients: no sock_diag reader, so every TCP request counts as the daemon's own user (as on
// macOS). Only bench/attribution.ts runs it, beside the real one, to price attribution.
import { serverMain } from "../../src/server/main.ts";

await serverMain(process.argv.slice(2), { openPeerReader: () => undefined });
