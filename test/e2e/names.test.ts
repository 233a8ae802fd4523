// Names end to end, with the compiled portctl, a real daemon and its proxy, real dev servers
// from npm (Vite, Next.js, Astro) and real Chromium: two worktrees of one repository run
// `portctl run -- npm run dev`; each page opens at its own name, an edit reaches the page by HMR
// through the proxy's WebSocket (no reload), the API's URL reaches the web server as API_URL,
// and a login cookie set by one checkout never reaches the other (as it does on localhost:PORT).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Browser } from "playwright-core";
import { builtBinaries } from "../helpers/binaries.ts";
import { chromiumPath, launch } from "../helpers/browser.ts";
import {
  type Daemon,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";
import { checkoutOf, type Installed, installed, skipped } from "../helpers/devapps.ts";
import { devApp } from "../helpers/devservers.ts";
import { makeRepo } from "../helpers/git.ts";
import { killHard } from "../helpers/processes.ts";
import { bodyOf, get, statusOf } from "../helpers/proxy.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/names");

let home: TempHome;
let daemon: Daemon;
let proxyPort: number;
let portctl: string;
let parent: string;
let browser: Browser | undefined;
const runs: { proc: Subprocess<"ignore", "pipe", "pipe">; err: () => string }[] = [];

beforeAll(async () => {
  home = tempHome("portctl-names-");
  daemon = await startDaemon({ home });
  const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as {
    proxy: { port: number };
  };
  proxyPort = health.proxy.port;
  portctl = join(await builtBinaries(), "portctl");
  parent = realpathSync(mkdtempSync(join(tmpdir(), "portctl-names-repo-")));
  const path = chromiumPath();
  if (path) browser = await launch(path);
}, 180_000);

afterAll(async () => {
  await Promise.all(runs.map(({ proc }) => stop(proc)));
  await browser?.close();
  await stopAllDaemons();
  home.cleanup();
  rmSync(parent, { recursive: true, force: true });
}, 60_000);

describe("vite", () => {
  let vite: Installed;
  beforeAll(async () => {
    vite = await installed(join(FIXTURES, "vite"));
  }, 320_000);

  test("two worktrees: pages by name, API_URL, HMR in Chromium, cookies kept apart", async () => {
    if (skipped("vite", vite) || !browser) return;
    const repo = makeRepo(parent, "shop");
    checkoutOf(join(FIXTURES, "vite"), vite.dir, repo.main);
    checkoutOf(join(FIXTURES, "vite"), vite.dir, repo.worktree);
    cpSync(join(FIXTURES, "api"), join(repo.main, "api"), { recursive: true });

    // The API first: the web server started after it gets API_URL.
    run(repo.main, ["--service", "api", "--", "node", "api/server.js"]);
    await until(async () => statusOf(await get(proxyPort, host("api.shop.localhost"))) === 200);
    const main = run(repo.main, ["--", "npm", "run", "dev"]);
    const feature = run(repo.worktree, ["--", "npm", "run", "dev"]);
    const mainHost = host("web.shop.localhost");
    const featureHost = host("web.wt-feature.shop.localhost");
    for (const h of [mainHost, featureHost]) {
      await until(async () => (await get(proxyPort, h)).includes("hello from vite"));
    }
    expect(main.err()).toContain(`shop/main/web → http://${mainHost} (port `);
    expect(feature.err()).toContain(`shop/wt-feature/web → http://${featureHost} (port `);
    // The checkout's short name is its web service too.
    expect(await get(proxyPort, host("shop.localhost"))).toContain("hello from vite");

    const env = JSON.parse(bodyOf(await get(proxyPort, mainHost, "/whoami")));
    expect(env.apiUrl).toBe(`http://${host("api.shop.localhost")}`);
    expect(env.webUrl).toBe(`http://${mainHost}`);
    expect(env.forwardedHost).toBe(mainHost);
    // The worktree has no API of its own: no API_URL borrowed from the main checkout.
    expect(JSON.parse(bodyOf(await get(proxyPort, featureHost, "/whoami"))).apiUrl).toBeNull();

    // HMR: the edit reaches the open page over the proxied WebSocket, without a reload.
    const page = await browser.newPage();
    // The edit must come after Vite's client has its WebSocket (a loaded machine can take a
    // while), or Vite has no one to tell.
    const connected = new Promise<void>((resolve) =>
      page.on("console", (m) => {
        if (m.text().includes("[vite] connected")) resolve();
      }),
    );
    await page.goto(`http://${mainHost}/`);
    await page.waitForFunction(
      () => document.getElementById("msg")?.textContent === "first version",
    );
    await connected;
    const origin = await page.evaluate(() => performance.timeOrigin);
    const file = join(repo.main, "main.js");
    writeFileSync(file, readFileSync(file, "utf8").replace('"first version"', '"second version"'));
    await page.waitForFunction(
      () => document.getElementById("msg")?.textContent === "second version",
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(origin);
    await page.close();

    // Cookies: each checkout's login stays its own under its name...
    const context = await browser.newContext();
    const tab = await context.newPage();
    const whoami = async (origin: string) => {
      await tab.goto(`${origin}/whoami`);
      return JSON.parse((await tab.textContent("body")) ?? "{}").cookie;
    };
    await tab.goto(`http://${mainHost}/login`);
    await tab.goto(`http://${featureHost}/login`);
    expect(await whoami(`http://${mainHost}`)).toBe("session=shop");
    expect(await whoami(`http://${featureHost}`)).toBe("session=wt-feature");
    // ...while on localhost:PORT, the bug names fix, the second login overwrites the first.
    const ports = await portsOf(["main", "wt-feature"]);
    await tab.goto(`http://localhost:${ports.main}/login`);
    await tab.goto(`http://localhost:${ports["wt-feature"]}/login`);
    expect(await whoami(`http://localhost:${ports.main}`)).toBe("session=wt-feature");
    await context.close();
  }, 240_000);
});

describe("next", () => {
  let next: Installed;
  beforeAll(async () => {
    next = await installed(join(FIXTURES, "next"));
  }, 320_000);

  test("next dev by name: the page loads, and Fast Refresh reaches Chromium through the proxy", async () => {
    if (skipped("next", next) || !browser) return;
    const dir = join(parent, "blog");
    mkdirSync(dir);
    checkoutOf(join(FIXTURES, "next"), next.dir, dir);
    const run1 = run(dir, ["--", "npm", "run", "dev"]);
    const name = host("web.blog.localhost");
    await until(async () => (await get(proxyPort, name)).includes("first version"), 120_000);
    expect(run1.err()).toContain(`blog/default/web → http://${name} (port `);

    const page = await browser.newPage();
    await page.goto(`http://${name}/`);
    await page.waitForFunction(() =>
      document.getElementById("msg")?.textContent?.includes("first"),
    );
    const origin = await page.evaluate(() => performance.timeOrigin);
    const file = join(dir, "app", "page.js");
    writeFileSync(file, readFileSync(file, "utf8").replace("first version", "second version"));
    await page.waitForFunction(
      () => document.getElementById("msg")?.textContent?.includes("second version"),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(origin);
    await page.close();
  }, 300_000);
});

describe("astro", () => {
  test("astro dev by name: the page loads, and an edit reaches Chromium by HMR through the proxy", async () => {
    if (!browser) return;
    // #25's Astro (7.4.8, which wants Node 22+: the app's PATH brings one), with this page.
    const app = await devApp("astro");
    if (!app) return;
    try {
      mkdirSync(join(app.dir, "src", "scripts"), { recursive: true });
      cpSync(join(FIXTURES, "astro", "index.astro"), join(app.dir, "src", "pages", "index.astro"));
      cpSync(join(FIXTURES, "astro", "message.js"), join(app.dir, "src", "scripts", "message.js"));
      await astroHmr(browser, app.dir, app.path);
    } finally {
      app.cleanup();
    }
  }, 300_000);
});

/** `npm run dev` in the app: its page by name, and an edit of its script by HMR. */
async function astroHmr(browser: Browser, dir: string, path: string) {
  const run1 = run(dir, ["--", "npm", "run", "dev"], path);
  const name = host("web.ds-astro.localhost");
  await until(async () => statusOf(await get(proxyPort, name)) === 200, 120_000);
  expect(run1.err()).toContain(`ds-astro/default/web → http://${name} (port `);

  const page = await browser.newPage();
  const connected = new Promise<void>((resolve) =>
    page.on("console", (m) => {
      if (m.text().includes("[vite] connected")) resolve();
    }),
  );
  await page.goto(`http://${name}/`);
  await page.waitForFunction(() => document.getElementById("msg")?.textContent === "first version");
  await connected;
  const origin = await page.evaluate(() => performance.timeOrigin);
  const file = join(dir, "src", "scripts", "message.js");
  writeFileSync(file, readFileSync(file, "utf8").replace('"first version"', '"second version"'));
  await page.waitForFunction(
    () => document.getElementById("msg")?.textContent === "second version",
    undefined,
    { timeout: 60_000 },
  );
  expect(await page.evaluate(() => performance.timeOrigin)).toBe(origin);
  await page.close();
  await stop(run1.proc);
}

// --- internal ---

function host(name: string): string {
  return `${name}:${proxyPort}`;
}

function run(cwd: string, args: string[], path = process.env.PATH ?? "/usr/bin:/bin") {
  const proc = Bun.spawn([portctl, "run", ...args], {
    cwd,
    env: {
      PATH: path,
      ...home.env,
      PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
      NEXT_TELEMETRY_DISABLED: "1",
      ASTRO_TELEMETRY_DISABLED: "1",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  let err = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  void new Response(proc.stdout).text();
  const entry = { proc, err: () => err };
  runs.push(entry);
  return entry;
}

async function stop(proc: Subprocess): Promise<void> {
  proc.kill("SIGTERM");
  await Promise.race([proc.exited, Bun.sleep(5000)]);
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {
    killHard(proc.pid);
  }
}

/** The web ports of the instances, from the registry. */
async function portsOf(instances: string[]): Promise<Record<string, number>> {
  const rows = (await (
    await fetch(`${daemon.url}/v1/allocations?app=shop&service=web`)
  ).json()) as {
    instance: string;
    port: number;
  }[];
  return Object.fromEntries(
    rows.filter((r) => instances.includes(r.instance)).map((r) => [r.instance, r.port]),
  );
}

async function until(ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(250);
  }
}
