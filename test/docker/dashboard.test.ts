// The dashboard's "listening but not registered" list with a real container: the row names the
// container, its Compose project and folder, and labels that look like HTML are shown as text
// and run nothing. Needs both an engine and Chromium (each skips with its own line outside CI).
import { afterAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { chromiumPath, launch } from "../helpers/browser.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  busyboxImage,
  cleanupDocker,
  dockerEngine,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";

const engine = await dockerEngine();
const path = engine ? chromiumPath() : undefined;
const suite = engine && path ? describe : describe.skip;
const HOSTILE = "<img src=x onerror=alert(1)>";

let browser: Browser | undefined;
let daemon: Daemon | undefined;
let home: TempHome | undefined;
afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  home?.cleanup();
  if (engine) await cleanupDocker();
});

suite("dashboard and containers", () => {
  test("an unregistered container's port names the container; hostile labels stay text", async () => {
    const image = await busyboxImage();
    const name = uniqueName("shop-db");
    const c = await runContainer({
      image,
      ports: [80],
      name,
      labels: {
        "com.docker.compose.project": HOSTILE,
        "com.docker.compose.project.working_dir": "/srv/shop",
      },
    });
    const port = c.ports.get(80) as number;
    home = tempHome("pst-dash-");
    // The section lists listeners in the daemon's range only: a range around the container's.
    daemon = await startDaemon({ home, args: ["--range", `${port}-${Math.min(port + 5, 65535)}`] });
    browser = await launch(path as string);
    const page = await browser.newPage();
    const alerts: string[] = [];
    page.on("dialog", async (d) => {
      alerts.push(d.message());
      await d.dismiss();
    });
    await page.goto(`${daemon.url}/`);
    const row = page.locator(`#listeners tr[data-port="${port}"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator('td[data-label="Process"]').textContent()).toBe(
      `container ${name} (Compose project ${HOSTILE}, /srv/shop)`,
    );
    expect(await page.locator("#listeners img").count()).toBe(0);
    expect(alerts).toEqual([]);
    await page.close();
  }, 90_000);
});
