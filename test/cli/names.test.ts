// Names from the command line: allocate --http / --name, portctl url, env's _URL variables,
// list -l's URL column, and doctor's word on the proxy, against a real daemon and its proxy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { proxyCheck } from "../../src/cli/doctor/proxy.ts";
import type { Allocation } from "../../src/core/model.ts";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";

let f: CliFixture;
let proxy: number;
beforeAll(async () => {
  f = await cliFixture("shop");
  proxy = (await f.api<{ proxy: { port: number } }>("/healthz")).proxy.port;
});
afterAll(() => f.close());

describe("allocate", () => {
  test("--http gives a URL, printed after the seed's line; without it, none", async () => {
    const web = await f.run(["allocate", "--service", "web", "--http"]);
    expect(web.code).toBe(0);
    expect(web.out[0]).toMatch(
      new RegExp(
        `^allocated port \\d+ \\(id=\\d+\\) for shop/default/web → http://web\\.shop\\.localhost:${proxy}$`,
      ),
    );
    const db = await f.alloc("--service", "db");
    expect(db.name).toBe("db.shop.localhost");
    expect(db.url).toBeNull();
  });

  test("--name picks the name; a bad or taken one is one line and exit 1, nothing allocated", async () => {
    const admin = await f.alloc("--service", "admin", "--name", "Back-Office.shop", "--http");
    expect(admin.name).toBe("back-office.shop.localhost");
    expect(admin.url).toBe(`http://back-office.shop.localhost:${proxy}`);
    const before = (await f.allocations()).length;
    const bad = await f.run(["allocate", "--service", "x", "--name", "no_underscores"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toEqual([
      "error: name must be DNS labels (letters, digits, inner hyphens; at most 63 each) separated by dots, such as admin.shop",
    ]);
    const taken = await f.run([
      "allocate",
      "--service",
      "y",
      "--name",
      "back-office.shop.localhost",
    ]);
    expect(taken.code).toBe(1);
    expect(taken.err).toEqual([
      `error: back-office.shop.localhost is already the name of shop/default/admin (id=${admin.id})`,
    ]);
    expect((await f.allocations()).length).toBe(before);
  });
});

describe("url", () => {
  test("prints the service's URL; --json the allocation", async () => {
    const run = await f.run(["url", "--service", "web"]);
    expect(run).toEqual({ code: 0, out: [`http://web.shop.localhost:${proxy}`], err: [] });
    const json = await f.run(["url", "--service", "web", "--json"]);
    expect((JSON.parse(json.out.join("\n")) as Allocation).url).toBe(
      `http://web.shop.localhost:${proxy}`,
    );
  });

  test("never an http:// URL for a database; no allocation is one line too", async () => {
    const db = await f.run(["url", "--service", "db"]);
    expect(db.code).toBe(1);
    expect(db.out).toEqual([]);
    expect(db.err).toEqual([
      "error: shop/default/db (db.shop.localhost) is not known to serve HTTP — portctl run starts it as a dev server; portctl allocate --service db --reuse --http marks it",
    ]);
    const none = await f.run(["url", "--service", "nothing"]);
    expect(none.code).toBe(1);
    expect(none.err[0]).toStartWith("error: shop/default/nothing has no port yet");
  });
});

describe("env and list", () => {
  test("env: a _URL for each HTTP service, after the ports; none for the database", async () => {
    const run = await f.run(["env"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain(`WEB_URL=http://web.shop.localhost:${proxy}`);
    expect(run.out.some((l) => l.startsWith("DB_URL"))).toBe(false);
    expect(run.out.some((l) => l.startsWith("DB_PORT="))).toBe(true);
  });

  test("list -l: the URL, or the name where there is none", async () => {
    const run = await f.run(["list", "-l"], { env: { ...f.env, COLUMNS: "400" } });
    const text = run.out.join("\n");
    expect(run.out[0]).toContain("URL");
    expect(text).toContain(`http://web.shop.localhost:${proxy}`);
    expect(text).toMatch(/ db\.shop\.localhost /);
  });
});

describe("doctor", () => {
  const health = (proxy: unknown) => ({ status: "ok", pid: 1, proxy });

  test("port 80: ok, URLs without a port", () => {
    expect(proxyCheck(health({ port: 80, setting: "auto", addresses: [] }))).toEqual({
      name: "names proxy",
      status: "ok",
      message: "on port 80 (127.0.0.1 and ::1): http://NAME.localhost",
    });
  });

  test("the fallback: which port, why, and the one-time steps for 80 on Linux (never run)", () => {
    const check = proxyCheck(
      health({ port: 2080, setting: "auto", addresses: [], note: "port 80: permission denied" }),
      "linux",
    );
    expect(check?.status).toBe("ok");
    expect(check?.message).toStartWith(
      "on port 2080 because port 80: permission denied: URLs are http://NAME.localhost:2080; to get port 80 without root every day, once:",
    );
    expect(check?.message).toContain("sudo setcap cap_net_bind_service=+ep");
    expect(check?.message).toContain("net.ipv4.ip_unprivileged_port_start=80");
    expect(
      proxyCheck(health({ port: 2080, setting: "auto", addresses: [] }), "darwin")?.message,
    ).toBe("on port 2080: URLs are http://NAME.localhost:2080");
  });

  test("not running is a failure with its reason; turned off a warning; an older daemon a warning", () => {
    expect(
      proxyCheck(
        health({ port: null, setting: 2080, addresses: [], note: "port 2080: already in use" }),
      ),
    ).toMatchObject({
      status: "fail",
      message: "not running: port 2080: already in use",
    });
    expect(proxyCheck(health({ port: null, setting: "off", addresses: [] }))?.status).toBe("warn");
    expect(proxyCheck({ status: "ok", pid: 1 })).toMatchObject({
      status: "warn",
      fix: "portctl restart",
    });
    expect(proxyCheck(undefined)).toBeUndefined();
  });
});
