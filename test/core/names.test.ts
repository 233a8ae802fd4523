// Names under .localhost: labels as DNS wants them, the derived scheme (main checkout short,
// a linked worktree with its instance, numbered when taken), a chosen name, uniqueness in the
// schema, and the name fixed for the allocation's life.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Allocator } from "../../src/core/allocator.ts";
import { PortError } from "../../src/core/errors.ts";
import { dnsLabel, parseChosenName, urlOf } from "../../src/core/names.ts";
import { Store } from "../../src/core/store.ts";
import { fakeProbe, fakeProcesses, fixedClock } from "../helpers/fakes.ts";
import { makeRepo, type Repo } from "../helpers/git.ts";

describe("labels", () => {
  test.each([
    ["shop", "shop"],
    ["Shop App", "shop-app"],
    ["feature/login", "feature-login"],
    ["web_api", "web-api"],
    ["Café", "cafe"],
    ["Øre straße", "ore-strasse"],
    ["--x--", "x"],
    ["3d", "3d"],
    ["a".repeat(70), "a".repeat(63)],
    [`${"a".repeat(62)}-b`, "a".repeat(62)],
  ])("%s → %s", (name, label) => {
    expect(dnsLabel(name)).toBe(label);
  });

  test("a name with no Latin letter gets a stable label of its own", () => {
    expect(dnsLabel("数据库")).toMatch(/^n-[0-9a-f]{8}$/);
    expect(dnsLabel("数据库")).toBe(dnsLabel("数据库"));
    expect(dnsLabel("数据库")).not.toBe(dnsLabel("服务"));
  });

  test("a chosen name: labels in any case, .localhost optional; anything else refused", () => {
    expect(parseChosenName("Admin.Shop")).toBe("admin.shop.localhost");
    expect(parseChosenName("admin.shop.localhost.")).toBe("admin.shop.localhost");
    for (const bad of ["", "a..b", "-a", "a_b", "a b", "é.shop", `${"a".repeat(64)}.x`, "a/b"]) {
      expect(() => parseChosenName(bad)).toThrow(PortError);
    }
    expect(() => parseChosenName(`${"a.".repeat(122)}a`)).toThrow(/more than 243 characters/);
  });

  test("the URL leaves out port 80 only", () => {
    expect(urlOf("web.shop.localhost", 80)).toBe("http://web.shop.localhost");
    expect(urlOf("web.shop.localhost", 2080)).toBe("http://web.shop.localhost:2080");
  });
});

describe("derived names", () => {
  let dir: string;
  let repo: Repo;
  let store: Store;
  let allocator: Allocator;
  const ask = (instance: string, service: string, checkout: string | null, extra = {}) =>
    allocator.allocate({ app: "shop", instance, service, checkout, ...extra }).allocation;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-names-"));
    repo = makeRepo(dir);
    store = new Store(":memory:");
    allocator = new Allocator({
      store,
      probe: fakeProbe(),
      range: { lo: 3000, hi: 3999 },
      now: fixedClock,
      processes: fakeProcesses(),
    });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("main checkout short, linked worktree with its instance, and the main web service's alias", () => {
    expect(ask("main", "web", repo.main).name).toBe("web.shop.localhost");
    expect(ask("main", "api", repo.main).name).toBe("api.shop.localhost");
    expect(ask("wt-feature", "web", repo.worktree).name).toBe("web.wt-feature.shop.localhost");
    expect(ask("wt-feature", "Web API", repo.worktree).name).toBe(
      "web-api.wt-feature.shop.localhost",
    );
  });

  test("taken names move on: the instance's, then numbered; never two alike", () => {
    store.write(() =>
      store.insert({
        app: "x",
        instance: "y",
        service: "z",
        port: 3900,
        created_at: "t",
        name: "web.other.shop.localhost",
      }),
    );
    expect(ask("main", "web", repo.main).name).toBe("web.shop.localhost");
    // Another clone, also a main checkout, on another branch.
    expect(ask("other", "web", null).name).toBe("web-2.other.shop.localhost");
    const names = store.list().map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
  });

  test("a name never changes while the allocation lives: reuse, take-over and release of others", () => {
    const a = ask("main", "web", repo.main);
    ask("main", "db", repo.main);
    store.deleteWhere({ service: "db" });
    const again = allocator.allocate(
      { app: "shop", instance: "main", service: "web", checkout: repo.main, http: true },
      { reuse: true },
    ).allocation;
    expect(again.id).toBe(a.id);
    expect(again.name).toBe(a.name);
  });

  test("a reuse that says HTTP marks the allocation (a URL once a proxy listens); never unmarks", () => {
    store.setProxyPort(2080);
    const a = ask("main", "db", repo.main);
    expect(a.url).toBeNull();
    const marked = allocator.allocate(
      { app: "shop", instance: "main", service: "db", checkout: repo.main, http: true },
      { reuse: true },
    ).allocation;
    expect(marked.url).toBe("http://db.shop.localhost:2080");
    const again = allocator.allocate(
      { app: "shop", instance: "main", service: "db", checkout: repo.main, http: false },
      { reuse: true },
    ).allocation;
    expect(again.url).toBe("http://db.shop.localhost:2080");
    store.setProxyPort(null);
    expect(store.byId(a.id)?.url).toBeNull();
  });
});

describe("chosen names", () => {
  let store: Store;
  let allocator: Allocator;
  beforeEach(() => {
    store = new Store(":memory:");
    allocator = new Allocator({
      store,
      probe: fakeProbe(),
      range: { lo: 3000, hi: 3999 },
      processes: fakeProcesses(),
    });
  });
  afterEach(() => store.close());

  test("kept as asked; a second allocation asking for it is 409 name_taken with the holder", () => {
    const a = allocator.allocate({
      app: "shop",
      instance: "main",
      service: "admin",
      name: "Admin.Shop",
    }).allocation;
    expect(a.name).toBe("admin.shop.localhost");
    let err: unknown;
    try {
      allocator.allocate({
        app: "blog",
        instance: "main",
        service: "web",
        name: "admin.shop.localhost",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PortError);
    expect((err as PortError).code).toBe("name_taken");
    expect((err as PortError).holder?.id).toBe(a.id);
    expect(store.list()).toHaveLength(1);
  });

  test("a derived name never takes a chosen one", () => {
    allocator.allocate({ app: "shop", instance: "main", service: "x", name: "web.shop" });
    const web = allocator.allocate({ app: "shop", instance: "main", service: "web" }).allocation;
    expect(web.name).toBe("web.main.shop.localhost");
  });
});
