// The daemon runs its names proxy beside the API: /healthz says where, the API keeps its own
// origin and guards (a page served under a name cannot use it), and the proxy never forwards to
// the API's port.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  type Daemon,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";
import { get, statusOf } from "../helpers/proxy.ts";

let home: TempHome;
let daemon: Daemon;
let proxy: { port: number; setting: string | number; addresses: string[] };

beforeAll(async () => {
  home = tempHome("ps-names-api-");
  daemon = await startDaemon({ home });
  proxy = ((await (await fetch(`${daemon.url}/healthz`)).json()) as { proxy: typeof proxy }).proxy;
});
afterAll(async () => {
  await stopAllDaemons();
  home.cleanup();
});

test("/healthz names the proxy's port (0 asked: a free one) and its loopback addresses", () => {
  expect(proxy.setting).toBe(0);
  expect(proxy.port).toBeGreaterThan(0);
  expect(proxy.port).not.toBe(daemon.port);
  expect(proxy.addresses).toContain("127.0.0.1");
  expect(daemon.stdout()).toContain(`names proxy on http://*.localhost:${proxy.port}`);
});

test("the API refuses a name's Host, on its port or the proxy's, and a write from a name's page", async () => {
  for (const host of [`web.shop.localhost:${daemon.port}`, `web.shop.localhost:${proxy.port}`]) {
    const res = await fetch(`${daemon.url}/v1/allocations`, { headers: { Host: host } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("forbidden");
  }
  const before = await (await fetch(`${daemon.url}/v1/allocations`)).json();
  const write = await fetch(`${daemon.url}/v1/allocations`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: `http://web.shop.localhost:${proxy.port}`,
    },
    body: JSON.stringify({ app: "x", instance: "y", service: "z" }),
  });
  expect(write.status).toBe(403);
  expect(await (await fetch(`${daemon.url}/v1/allocations`)).json()).toEqual(before);
});

test("an allocation on the API's port is never proxied to: 508", async () => {
  const res = await fetch(`${daemon.url}/v1/allocations?adopt=true`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ app: "evil", instance: "main", service: "web", port: daemon.port }),
  });
  expect(res.status).toBe(201);
  const text = await get(proxy.port, `web.evil.localhost:${proxy.port}`, "/v1/allocations");
  expect(statusOf(text)).toBe(508);
  expect(text).not.toContain('"app"');
});
