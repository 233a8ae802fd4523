// The dashboard in a real Chromium against a real daemon: what it lists, live updates from the
// CLI, release behind a confirmation, the filter, hostile names rendered as text, a page of
// another origin that cannot release anything, and the CSP. It also writes the README's
// screenshots (docs/dashboard.png, docs/dashboard-dark.png).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { chromiumPath, launch } from "../helpers/browser.ts";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";

const HOSTILE = "<img src=x onerror=alert(1)>";
const path = chromiumPath();
const suite = path ? describe : describe.skip;

let browser: Browser;
let fx: CliFixture;
let alerts: string[] = [];

beforeAll(async () => {
  if (!path) return;
  browser = await launch(path);
  fx = await cliFixture("shop");
  for (const [app, instance, service] of [
    ["shop", "main", "web"],
    ["shop", "main", "postgres"],
    ["shop", "feature-login", "web"],
    ["blog", "main", "api"],
    ["blog", "main", HOSTILE],
  ] as const) {
    await fx.alloc("--app", app, "--instance", instance, "--service", service);
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

suite("dashboard", () => {
  test("serves the page with a strict CSP and lists every allocation, grouped by app", async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${fx.daemon.url}/`);
    const csp = res?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(res?.headers()["x-content-type-options"]).toBe("nosniff");
    await page.waitForSelector('article[data-app="shop"]');
    expect(await page.locator("article.app h2").allTextContents()).toEqual([
      "blog2 ports · 0 listening",
      "shop3 ports · 0 listening",
    ]);
    const shop = page.locator('article[data-app="shop"]');
    expect(await shop.locator(".instance-name").allTextContents()).toEqual([
      "feature-login",
      "main",
    ]);
    expect(await shop.locator("td.service").allTextContents()).toEqual(["web", "web", "postgres"]);
    await page.close();
  }, 30_000);

  test("each row has its name; one that serves HTTP links its URL, in a new tab", async () => {
    const run = await fx.run([
      "allocate",
      "--app",
      "shop",
      "--instance",
      "main",
      "--service",
      "web",
      "--reuse",
      "--http",
    ]);
    expect(run.code).toBe(0);
    const [web] = await fx.api<{ url: string }[]>(
      "/v1/allocations?app=shop&instance=main&service=web",
    );
    const page = await open();
    const link = page.locator("tr td.name a[href]", { hasText: "web.shop.localhost" });
    await link.waitFor({ timeout: 5000 });
    expect(await link.getAttribute("href")).toBe(web?.url ?? "");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    // A database: its name, no link.
    const db = page.locator("tr", { hasText: "postgres" }).locator("td.name");
    expect(await db.textContent()).toBe("postgres.shop.localhost");
    expect(await db.locator("a").count()).toBe(0);
    await page.close();
  }, 30_000);

  test("a name that looks like HTML is shown as text and runs nothing", async () => {
    const page = await open();
    const cell = page.locator('article[data-app="blog"] td.service', { hasText: "onerror" });
    expect(await cell.textContent()).toBe(HOSTILE);
    expect(await page.locator("#apps img").count()).toBe(0);
    expect(alerts).toEqual([]);
    await page.close();
  }, 30_000);

  test("an allocation made from the CLI appears without a reload", async () => {
    const page = await open();
    const run = await fx.run([
      "allocate",
      "--app",
      "shop",
      "--instance",
      "main",
      "--service",
      "cache",
    ]);
    expect(run.code).toBe(0);
    // The page polls every second; allow for a slow machine.
    await page.locator("td.service", { hasText: "cache" }).waitFor({ timeout: 5000 });
    await page.close();
  }, 30_000);

  test("the filter narrows the rows as you type", async () => {
    const page = await open();
    await page.fill("#filter", "blog api");
    expect(await page.locator("article.app").count()).toBe(1);
    expect(await page.locator("td.service").allTextContents()).toEqual(["api"]);
    await page.fill("#filter", "nothing-like-this");
    expect(await page.locator("#apps").textContent()).toBe("No allocation matches the filter.");
    await page.close();
  }, 30_000);

  test("release asks first; Cancel keeps the allocation, Release removes row and allocation", async () => {
    const page = await open();
    const target = (await fx.allocations()).find((a) => a.service === "postgres");
    if (!target) throw new Error("fixture missing postgres");
    const row = page.locator(`tr[data-id="${target.id}"]`);
    await row.getByRole("button", { name: /^Release / }).click();
    expect(await page.locator("#confirm").isVisible()).toBe(true);
    expect(await page.locator("#confirm-text").textContent()).toBe(
      `Release port ${target.port} of shop/main/postgres?`,
    );
    await page.click("#confirm-cancel");
    expect((await fx.allocations()).some((a) => a.id === target.id)).toBe(true);
    expect(await row.count()).toBe(1);

    await row.getByRole("button", { name: /^Release / }).click();
    await page.click("#confirm-ok");
    await row.waitFor({ state: "detached", timeout: 5000 });
    expect((await fx.allocations()).some((a) => a.id === target.id)).toBe(false);
    await page.close();
  }, 30_000);

  test("release instance asks first, then frees every port of that instance only", async () => {
    const page = await open();
    const block = page.locator('article[data-app="shop"] .instance[data-instance="feature-login"]');
    await block.getByRole("button", { name: /^Release every port/ }).click();
    expect(await page.locator("#confirm-text").textContent()).toBe(
      "Release the port of shop/feature-login?",
    );
    await page.click("#confirm-ok");
    await block.waitFor({ state: "detached", timeout: 5000 });
    const left = await fx.allocations();
    expect(left.some((a) => a.instance === "feature-login")).toBe(false);
    expect(left.some((a) => a.app === "shop" && a.instance === "main")).toBe(true);
    await page.close();
  }, 30_000);

  test("a page of another origin can release nothing (no-cors fetch, form posts)", async () => {
    const before = await fx.allocations();
    const victim = before[0];
    if (!victim) throw new Error("no allocation");
    const daemon = fx.daemon.url;
    // Same site (127.0.0.1), another origin: exactly a dev server the user has open.
    const attacker = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(
          `<!doctype html><body>
          <form id="f1" method="POST" action="${daemon}/v1/allocations" enctype="text/plain">
            <input name='{"app":"x","instance":"y","service":"z","pad":"' value='"}'></form>
          <form id="f2" method="POST" action="${daemon}/v1/prune"></form>
          <script>
            fetch("${daemon}/v1/allocations/${victim.id}", { method: "DELETE", mode: "no-cors" })
              .finally(() => fetch("${daemon}/v1/allocations", { method: "DELETE", mode: "no-cors",
                body: JSON.stringify({ app: "${victim.app}" }) }))
              .finally(() => { document.title = "sent"; });
          </script></body>`,
          { headers: { "Content-Type": "text/html" } },
        ),
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${attacker.port}/`);
      await page.waitForFunction(() => document.title === "sent");
      await Promise.all([
        page.waitForNavigation(),
        page.evaluate(() => (document.getElementById("f1") as HTMLFormElement).submit()),
      ]);
      expect(await page.content()).toContain(
        "cross-site request refused (Sec-Fetch-Site: same-site)",
      );
      await page.goto(`http://127.0.0.1:${attacker.port}/`);
      await page.waitForFunction(() => document.title === "sent");
      await Promise.all([
        page.waitForNavigation(),
        page.evaluate(() => (document.getElementById("f2") as HTMLFormElement).submit()),
      ]);
      await page.close();
    } finally {
      attacker.stop(true);
    }
    expect(await fx.allocations()).toEqual(before);
  }, 30_000);

  test("writes the README's screenshots, light and dark", async () => {
    // A machine as the README describes it: two projects, a feature worktree, one server up.
    const demo = await cliFixture("shop");
    const listener = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      for (const [app, instance, service] of [
        ["shop", "main", "web"],
        ["shop", "main", "api"],
        ["shop", "main", "postgres"],
        ["shop", "main", "redis"],
        ["shop", "feature-login", "web"],
        ["shop", "feature-login", "postgres"],
        ["blog", "main", "web"],
      ] as const) {
        await demo.alloc("--app", app, "--instance", instance, "--service", service);
      }
      // The blog's dev server is running on its port: that row shows the process.
      await checkedFetch(`${demo.daemon.url}/v1/allocations?adopt=true`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          app: "blog",
          instance: "main",
          service: "api",
          port: listener.port,
        }),
      });
      await shoot(demo.daemon.url);
    } finally {
      listener.stop(true);
      await demo.close();
    }
  }, 30_000);

  test("each instance shows the Compose project name its checkout holds, as text", async () => {
    await fx.alloc("--app", "shop", "--instance", "review", "--service", "web");
    const rows = await fx.allocations();
    const checkout = rows.find((a) => a.app === "shop" && a.instance === "review")?.checkout;
    const claimed = await checkedFetch(`${fx.daemon.url}/v1/projects`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "shop-x", app: "shop", instance: "review", checkout }),
    });
    expect(claimed.status).toBe(201);
    const page = await open();
    const instance = page.locator('article[data-app="shop"] .instance[data-instance="review"]');
    await instance.locator(".project").waitFor();
    expect(await instance.locator(".project").textContent()).toBe("compose: shop-x");
    expect(await page.locator('.instance[data-instance="main"] .project').count()).toBe(0);
    await page.close();
  }, 30_000);
});

// --- internal ---

/**
 * Takes both screenshots. They are written to docs/ (the README's pictures) only when asked,
 * with UPDATE_SCREENSHOTS=1 (`make screenshots`): a test run never changes the checkout.
 */
async function shoot(url: string): Promise<void> {
  const docs = join(import.meta.dir, "../../docs");
  for (const [scheme, file] of [
    ["light", "dashboard.png"],
    ["dark", "dashboard-dark.png"],
  ] as const) {
    const page = await browser.newPage({
      viewport: { width: 1100, height: 760 },
      colorScheme: scheme,
    });
    await page.goto(`${url}/`);
    await page.waitForSelector("td .live");
    const png = await page.screenshot({ fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOTS === "1") writeFileSync(join(docs, file), png);
    await page.close();
  }
}

async function open(): Promise<Page> {
  const page = await browser.newPage();
  alerts = [];
  page.on("dialog", (d) => {
    alerts.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${fx.daemon.url}/`);
  await page.waitForSelector("article.app");
  return page;
}
