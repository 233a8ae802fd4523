// The real Vite from the npm registry, once, end to end through the compiled portctl: `portctl
// run -- npm run dev` in a fixture whose script is plain `vite` serves on the registered port.
// Skipped (saying why) only when npm cannot reach the registry.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import {
  type Daemon,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";
import { killHard } from "../helpers/processes.ts";

const ROOT = join(import.meta.dir, "../..");
const FIXTURE = join(import.meta.dir, "../fixtures/vite-app");

let home: TempHome;
let daemon: Daemon;
let app: string;
let installed: { ok: true } | { ok: false; why: string };

beforeAll(async () => {
  home = tempHome("portctl-vite-");
  app = join(mkdtempSync(join(tmpdir(), "portctl-vite-app-")), "vite-app");
  cpSync(FIXTURE, app, { recursive: true });
  installed = await npmInstall(app);
  daemon = await startDaemon({ home });
}, 180_000);
afterAll(async () => {
  await stopAllDaemons();
  home.cleanup();
  rmSync(join(app, ".."), { recursive: true, force: true });
});

test("real vite via npm run dev: serves on the registered port, stops on SIGTERM", async () => {
  if (!installed.ok) {
    console.warn(`skipped: vite could not be installed from npm (${installed.why})`);
    return;
  }
  // A port the kernel just handed out, registered first: on a shared machine another test may
  // bind the range's first port between portctl's check and vite's listen.
  const registered = await checkedFetch(`${daemon.url}/v1/allocations`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      app: "vite-app",
      instance: "default",
      service: "web",
      port: freePort(),
      checkout: realpathSync(app),
    }),
  });
  expect(registered.status).toBe(201);
  const portctl = join(await builtBinaries(), "portctl");
  const proc = Bun.spawn([portctl, "run", "--", "npm", "run", "dev"], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...home.env,
      PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  try {
    const [row] = await waitForAllocation();
    expect(row).toMatchObject({ app: "vite-app", instance: "default", service: "web" });
    const url = `http://localhost:${row?.port}/`;
    let body = "";
    await waitUntilAsync(async () => {
      body = await fetch(url).then(
        (r) => r.text(),
        () => "",
      );
      return body.includes("hello from vite");
    }, 30_000);
    expect(body).toContain("hello from vite");

    proc.kill("SIGTERM");
    await proc.exited;
    const [out, err] = [
      await new Response(proc.stdout).text(),
      await new Response(proc.stderr).text(),
    ];
    expect(err).toMatch(
      new RegExp(
        `vite-app/default/web → http://web\\.vite-app\\.localhost:\\d+ \\(port ${row?.port}\\)`,
      ),
    );
    expect(out).toContain(`> vite --port ${row?.port} --strictPort`);
    // Nothing is left serving: vite stopped with npm.
    await waitUntilAsync(
      async () =>
        !(await fetch(url).then(
          () => true,
          () => false,
        )),
      5000,
    );
    expect(
      await fetch(url).then(
        () => "up",
        () => "down",
      ),
    ).toBe("down");
  } finally {
    killHard(proc.pid);
  }
}, 60_000);

// --- internal ---

async function waitForAllocation() {
  let rows: { app: string; instance: string; service: string; port: number }[] = [];
  await waitUntilAsync(async () => {
    rows = (await checkedFetch(`${daemon.url}/v1/allocations`).then((r) =>
      r.json(),
    )) as typeof rows;
    return rows.length > 0;
  }, 10_000);
  return rows;
}

async function waitUntilAsync(ok: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok()) && Date.now() < deadline) await Bun.sleep(100);
}

/** npm install with a cache under node_modules/.cache, so later runs need no network. */
async function npmInstall(dir: string): Promise<{ ok: true } | { ok: false; why: string }> {
  const proc = Bun.spawn(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home.root,
      npm_config_cache: join(ROOT, "node_modules/.cache/port-server-test-npm"),
      npm_config_update_notifier: "false",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => killHard(proc.pid), 150_000);
  const err = await new Response(proc.stderr).text();
  clearTimeout(timer);
  if ((await proc.exited) === 0) return { ok: true };
  if (/ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|network/i.test(err))
    return { ok: false, why: err.trim().split("\n")[0] ?? "network" };
  throw new Error(`npm install failed:\n${err}`);
}
