// The dashboard's routes in-process: the page and its files behind the API's guards, with the
// CSP and the API's headers, caching by ETag, the API's JSON 404/405 elsewhere, and
// GET /v1/listeners. Every response is also checked against the served OpenAPI document.
import { describe, expect, test } from "bun:test";
import { procListeners } from "../../src/core/listeners.ts";
import { CONTENT_SECURITY_POLICY } from "../../src/server/ui/routes.ts";
import { expectSecurityHeaders, testApp } from "../helpers/app.ts";

describe("GET /", () => {
  test("the page, with the CSP, nosniff/CORP, no framing, and the bundled files it names", async () => {
    const t = testApp();
    const res = await t.get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expectSecurityHeaders(res);
    const html = await res.text();
    const files = [...html.matchAll(/(?:src|href)="\.?(\/chunk-[\w-]+\.(?:js|css))"/g)].map(
      (m) => m[1] ?? "",
    );
    expect(files.map((f) => f.split(".").pop()).sort()).toEqual(["css", "js"]);
    for (const file of files) {
      const asset = await t.get(file);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(asset.headers.get("cache-control")).toContain("immutable");
      expect((await asset.text()).length).toBeGreaterThan(100);
    }
    // No inline script or style: the CSP would refuse them.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
  });

  test("an unchanged page is 304 to If-None-Match", async () => {
    const t = testApp();
    const etag = (await t.get("/")).headers.get("etag") ?? "";
    const again = await t.get("/", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("the Host guard covers the page: a rebinding host is 403 JSON", async () => {
    const t = testApp();
    const res = await t.get("/", { headers: { host: "evil.example:40123" } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "forbidden" });
  });

  test("a missing file is the API's JSON 404; POST / is 405 with Allow", async () => {
    const t = testApp();
    const missing = await t.get("/chunk-doesnotexist.js");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not found", code: "not_found" });
    const other = await t.get("/index.html");
    expect(other.status).toBe(404);
    const post = await t.send("POST", "/", { json: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("GET /v1/listeners", () => {
  test("every listener with its process, as the probe of the machine reports it", async () => {
    const listeners = [{ port: 3002, pid: 812, process: "node" }, { port: 5432 }];
    const res = await testApp({ listeners }).get("/v1/listeners");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(listeners);
  });

  test("the real machine: a port this test listens on is listed with this process", () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const found = procListeners("/proc").find((l) => l.port === server.port);
      expect(found).toMatchObject({ port: server.port, pid: process.pid });
    } finally {
      server.stop(true);
    }
  });
});
