// Every signal that reaches `portctl run` stops the dev server's whole tree, with no terminal
// (an agent, turbo, concurrently, an IDE): the real Vite started through `npm run dev`, `npx
// vite` and `pnpm dev`, each sent SIGINT, SIGTERM, SIGHUP and SIGQUIT. Nothing of the tree may
// be left, the port must be free, and the signal itself must have done it (not the SIGKILL
// that ends the grace period).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { systemProbe } from "../../src/core/probe.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  appOf,
  type DevApp,
  devApp,
  killAll,
  startPortctl,
  waitForPage,
} from "../helpers/devservers.ts";
import { isAlive, waitUntil } from "../helpers/processes.ts";

let home: TempHome;
let daemon: Daemon;
let installed: DevApp | undefined;
let portctl: string;
const apps: DevApp[] = [];

beforeAll(async () => {
  home = tempHome("portctl-signals-");
  [installed, daemon, portctl] = await Promise.all([
    devApp("vite"),
    startDaemon({ home }),
    builtBinaries().then((dir) => join(dir, "portctl")),
  ]);
  if (installed) apps.push(installed);
}, 600_000);
afterAll(async () => {
  await daemon?.stop();
  home.cleanup();
  for (const app of apps) app.cleanup();
});

const WAYS: Record<string, string[]> = {
  "npm run dev": ["npm", "run", "dev"],
  "npx vite": ["npx", "vite"],
  "pnpm dev": ["pnpm", "dev"],
};
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

for (const [way, command] of Object.entries(WAYS)) {
  for (const sig of SIGNALS) {
    test(`${way}, no terminal, ${sig}: the whole tree ends and the port is free`, async () => {
      if (!installed) return;
      // A folder of its own: Vite 8 records its dev process in node_modules/.vite/lock per
      // project folder, and one that died of SIGQUIT leaves its record behind.
      const app = (await devApp("vite")) as DevApp;
      apps.push(app);
      const service = `s-${way.replaceAll(" ", "-")}-${sig.toLowerCase()}`;
      const port = await register(app.dir, service);
      const run = startPortctl(portctl, ["run", "--service", service, "--", ...command], {
        cwd: app.dir,
        env: { ...home.env, PATH: app.path, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` },
      });
      let tree: number[] = [];
      try {
        const page = await waitForPage(`http://127.0.0.1:${port}/`, "hello from vite", run);
        expect(page, `${run.out()}\n${run.err()}`).toContain("hello from vite");
        tree = run.tree();
        // portctl, the guard, the package manager, sh where there is one, vite, esbuild.
        expect(tree.length).toBeGreaterThanOrEqual(4);
        run.proc.kill(sig);
        await run.done();
        await waitUntil(() => !tree.some(isAlive), 3000);
        expect(tree.filter(isAlive)).toEqual([]);
        expect(systemProbe().who(port).in_use).toBe(false);
        expect(run.err()).not.toContain("still running");
      } finally {
        killAll([...tree, ...run.tree()]);
      }
    }, 90_000);
  }
}

// --- internal ---

/** The service on a port the kernel just handed out (the range's first may be anyone's). */
async function register(dir: string, service: string): Promise<number> {
  const port = freePort();
  const res = await checkedFetch(`${daemon.url}/v1/allocations`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ app: appOf(dir), instance: "default", service, port, checkout: dir }),
  });
  expect(res.status).toBe(201);
  return port;
}
