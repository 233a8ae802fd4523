// Schema migrations against the databases real releases wrote: test/fixtures/db/v1.db was
// written by the Store of f5111d8 (schema v1, the first release) and must open with every row
// intact; a newer schema is refused without a byte of the file changing.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PortError } from "../../src/core/errors.ts";
import { SCHEMA_VERSION } from "../../src/core/migrations.ts";
import type { Row } from "../../src/core/model.ts";
import { dnsLabel } from "../../src/core/names.ts";
import { Store } from "../../src/core/store.ts";
import { userVersion } from "../helpers/assert.ts";

const FIXTURE = join(import.meta.dir, "../fixtures/db/v1.db");
const V2_FIXTURE = join(import.meta.dir, "../fixtures/db/v2-names.db");
const SERVICE_HASH = dnsLabel("サービス").slice(2);

/** The v1 rows exactly as f5111d8 wrote them (id 6 was released: ids have a gap). */
const V1_ROWS: Row[] = (
  [
    [1, "shop", "main", "web", 3000, "2025-02-08T15:04:05Z", "web.shop.localhost"],
    [2, "shop", "main", "db", 5432, "2025-02-08T15:04:06Z", "db.shop.localhost"],
    // The short name is the main checkout's: this instance's web gets its own label.
    [
      3,
      "shop",
      "feature-login",
      "web",
      3001,
      "2025-02-09T09:00:00Z",
      "web.feature-login.shop.localhost",
    ],
    [4, "blog", "default", "web", 3002, "2025-03-01T12:30:00Z", "web.blog.localhost"],
    // No Latin letter in the service: a label from its hash.
    [
      5,
      "café",
      "ümlaut",
      "サービス",
      8080,
      "2025-04-01T00:00:00Z",
      `n-${SERVICE_HASH}.cafe.localhost`,
    ],
    [7, "api", "main", "metrics", 65535, "2025-04-03T00:00:00Z", "metrics.api.localhost"],
  ] as const
).map(([id, app, instance, service, port, created_at, name]) => ({
  id,
  app,
  instance,
  service,
  port,
  created_at,
  checkout: null,
  last_seen: null,
  lease_pid: null,
  lease_started_at: null,
  block_id: null,
  name,
  url: null,
  lease_session: null,
  owner_uid: null,
}));

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "port-server-v1-"));
  path = join(dir, "ports.db");
  copyFileSync(FIXTURE, path);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("v1 → v2", () => {
  test("the fixture is what the first release wrote", () => {
    expect(userVersion(FIXTURE)).toBe(1);
    const db = new Database(FIXTURE, { readonly: true });
    const cols = db.query<{ name: string }, []>("PRAGMA table_info(allocations)").all();
    db.close();
    expect(cols.map((c) => c.name)).toEqual([
      "id",
      "app",
      "instance",
      "service",
      "port",
      "created_at",
    ]);
  });

  test("opens with every row intact, the new fields null (names derived), and no invented history", () => {
    const store = new Store(path);
    expect(store.list()).toEqual(V1_ROWS);
    expect(store.events({})).toEqual([]);
    store.close();
    expect(userVersion(path)).toBe(SCHEMA_VERSION);
  });

  test("the upgraded file keeps its constraints and ids: no port twice, ids continue after 7", () => {
    const store = new Store(path);
    expect(() =>
      store.write(() =>
        store.insert({ app: "x", instance: "y", service: "z", port: 3000, created_at: "t" }),
      ),
    ).toThrow();
    const a = store.write(() =>
      store.insert({ app: "x", instance: "y", service: "z", port: 4000, created_at: "t" }),
    );
    expect(a.id).toBe(8);
    expect(store.events({}).map((e) => [e.kind, e.port])).toEqual([["allocated", 4000]]);
    store.close();
  });

  test("a migration that fails half-way leaves the v1 file as it was", () => {
    // An `events` table already there makes the CREATE TABLE of v2 fail after its ALTERs ran.
    const db = new Database(path);
    db.run("CREATE TABLE events (x TEXT)");
    db.close();
    expect(() => new Store(path)).toThrow(PortError);
    expect(userVersion(path)).toBe(1);
    const check = new Database(path, { readonly: true });
    const cols = check.query<{ name: string }, []>("PRAGMA table_info(allocations)").all();
    expect(cols.map((c) => c.name)).not.toContain("checkout");
    expect(check.query("SELECT count(*) AS n FROM allocations").get()).toEqual({ n: 6 });
    check.close();
  });

  test("a database from a newer release is refused with one line, its bytes untouched", () => {
    const db = new Database(path);
    db.run("PRAGMA user_version = 99");
    db.close();
    const before = readFileSync(path);
    let err: unknown;
    try {
      new Store(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PortError);
    expect((err as Error).message).toBe(
      `database schema version 99 is newer than this port-server understands (${SCHEMA_VERSION}); upgrade port-server`,
    );
    expect((err as Error).message).not.toContain("\n");
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe("v2 → v3", () => {
  // test/fixtures/db/v2.db: written by the Store of 07abe4c (schema v2, the second release):
  // shop/main web 3000 and a leased db 5432, and blog's 3001 allocated then released.
  const V2 = join(import.meta.dir, "../fixtures/db/v2.db");

  test("every row and event is kept, the new columns null, ids continue", () => {
    expect(userVersion(V2)).toBe(2);
    copyFileSync(V2, path);
    const store = new Store(path);
    expect(store.list().map((a) => [a.id, a.service, a.port, a.lease_pid, a.block_id])).toEqual([
      [1, "web", 3000, null, null],
      [2, "db", 5432, 77, null],
    ]);
    expect(store.events({}).map((e) => [e.id, e.kind, e.port, e.pid, e.reason, e.project])).toEqual(
      [
        [4, "released", 3001, 99, "released by id", null],
        [3, "allocated", 3001, null, "allocated", null],
        [2, "allocated", 5432, null, "leased to process 77", null],
        [1, "allocated", 3000, 4242, "allocated", null],
      ],
    );
    const a = store.write(() =>
      store.insert({ app: "x", instance: "y", service: "z", port: 4000, created_at: "t" }),
    );
    expect(a.id).toBe(4);
    expect(store.events({ limit: 1 })[0]?.id).toBe(5);
    // The new kinds are accepted by the rebuilt table's CHECK; an unknown one still is not.
    expect(() =>
      store.db.run(
        "INSERT INTO events (at, kind, app, instance, service, port, reason) VALUES ('t', 'bogus', 'a', 'b', '', 0, 'r')",
      ),
    ).toThrow(/CHECK constraint failed/);
    store.close();
    expect(userVersion(path)).toBe(SCHEMA_VERSION);
  });
});

// test/fixtures/db/v2-names.db: also written by the Store of 07abe4c (schema v2), with the rows
// the names are derived from: two instances of one app, a name that needs transliterating.
describe("v2 → v4 (names)", () => {
  test("the fixture is what the second release wrote", () => {
    expect(userVersion(V2_FIXTURE)).toBe(2);
  });

  test("every row gets a name, oldest first, unique; none serves HTTP yet; no event", () => {
    copyFileSync(V2_FIXTURE, path);
    const store = new Store(path);
    const rows = store.list();
    expect(rows.map((r) => [r.id, r.name, r.url])).toEqual([
      [1, "web.shop.localhost", null],
      [2, "db.shop.localhost", null],
      // /src/shop-fix-ui is no folder here, so not known as a linked worktree: its web takes
      // the next free name, its api the short one.
      [3, "web.fix-ui.shop.localhost", null],
      [4, "api.shop.localhost", null],
      [5, "web-api.shop-app.localhost", null],
      [6, "web.blog.localhost", null],
    ]);
    // Everything else as it was.
    expect(rows.map((r) => [r.app, r.instance, r.service, r.port, r.checkout])).toEqual([
      ["shop", "main", "web", 3000, "/src/shop"],
      ["shop", "main", "db", 5432, "/src/shop"],
      ["shop", "fix-ui", "web", 3001, "/src/shop-fix-ui"],
      ["shop", "fix-ui", "api", 3002, "/src/shop-fix-ui"],
      ["Shop App", "feature/login", "Web API", 3003, null],
      ["blog", "default", "web", 3004, null],
    ]);
    expect(store.events({}).map((e) => e.kind)).toEqual(Array(6).fill("allocated"));
    store.close();
    expect(userVersion(path)).toBe(SCHEMA_VERSION);
  });

  test("the schema refuses a second row with a name already taken", () => {
    copyFileSync(V2_FIXTURE, path);
    const store = new Store(path);
    expect(() =>
      store.write(() =>
        store.insert({
          app: "x",
          instance: "y",
          service: "z",
          port: 4000,
          created_at: "t",
          name: "web.shop.localhost",
        }),
      ),
    ).toThrow(/UNIQUE constraint failed: allocations\.name/);
    store.close();
  });
});

// The same v2 fixture, upgraded through v6: owners (#28).
describe("v2 → v6: owners (#28)", () => {
  const V2 = join(import.meta.dir, "../fixtures/db/v2.db");
  let v2: string;
  beforeEach(() => {
    v2 = join(dir, "v2.db");
    copyFileSync(V2, v2);
  });

  test("the fixture is what the second release wrote", () => {
    expect(userVersion(V2)).toBe(2);
    const db = new Database(V2, { readonly: true });
    const cols = db.query<{ name: string }, []>("PRAGMA table_info(allocations)").all();
    db.close();
    expect(cols.map((c) => c.name)).not.toContain("owner_uid");
  });

  test("every row and event kept; all of them the daemon's own user's (owner_uid null)", () => {
    const before = new Database(V2, { readonly: true });
    const rows = before.query("SELECT * FROM allocations ORDER BY id").all();
    const events = before.query("SELECT * FROM events ORDER BY id").all();
    before.close();
    const store = new Store(v2);
    // Every column it had, as it had it; the owner null (the daemon's own user).
    expect(store.list()).toMatchObject(rows.map((r) => ({ ...(r as object), owner_uid: null })));
    expect(store.list().every((r) => r.owner_uid === null)).toBe(true);
    expect([...store.events({})].reverse()).toMatchObject(
      events.map((e) => ({ ...(e as object), owner_uid: null })),
    );
    store.close();
    expect(userVersion(v2)).toBe(SCHEMA_VERSION);
  });

  test("after the upgrade another user's row records its uid, and uniqueness still spans users", () => {
    const store = new Store(v2);
    const row = store.write(() =>
      store.insert({
        app: "theirs",
        instance: "main",
        service: "web",
        port: 3005,
        created_at: "t",
        owner_uid: 1234,
      }),
    );
    expect(row.owner_uid).toBe(1234);
    expect(store.events({ port: 3005 })[0]?.owner_uid).toBe(1234);
    expect(() =>
      store.write(() =>
        store.insert({
          app: "x",
          instance: "y",
          service: "z",
          port: 3000,
          created_at: "t",
          owner_uid: 1234,
        }),
      ),
    ).toThrow();
    expect(() =>
      store.db.run("UPDATE allocations SET owner_uid = -1 WHERE id = ?", [row.id]),
    ).toThrow();
    store.close();
  });
});

// test/fixtures/db/v6.db: written by the Store of ae7ade4 (schema v6, names host-wide): the
// daemon's user's shop/main web (HTTP) and db, and a session with a heartbeat holding
// shop/agent/web; uid 1234's bobs-shop/main/web held by session sess-bob and shop/fix-ui/web;
// an empty session; two Compose project names (the daemon user's, uid 1234's); ids 3 and 7
// released (the sequence is at 7, past the largest id).
describe("v6 → v7: names are each user's own (#28)", () => {
  const V6 = join(import.meta.dir, "../fixtures/db/v6.db");
  let v6: string;
  beforeEach(() => {
    v6 = join(dir, "v6.db");
    copyFileSync(V6, v6);
  });
  const all = (db: Database, sql: string) => db.query(sql).all();

  test("the fixture is what schema v6 wrote: one app/instance/service per host", () => {
    expect(userVersion(V6)).toBe(6);
    const db = new Database(V6, { readonly: true });
    const sql = db
      .query<{ sql: string }, []>("SELECT sql FROM sqlite_master WHERE name = 'allocations'")
      .get()?.sql;
    const sessions = db.query<{ name: string }, []>("PRAGMA table_info(sessions)").all();
    db.close();
    expect(sql).toContain("UNIQUE (app, instance, service)");
    expect(sessions.map((c) => c.name)).not.toContain("owner_uid");
  });

  test("every row, event and project name kept as it was; ids never handed out twice", () => {
    const before = new Database(V6, { readonly: true });
    const rows = all(before, "SELECT * FROM allocations ORDER BY id");
    const events = all(before, "SELECT * FROM events ORDER BY id");
    const projects = all(before, "SELECT * FROM projects ORDER BY id");
    before.close();
    new Store(v6).close();
    expect(userVersion(v6)).toBe(SCHEMA_VERSION);
    const after = new Database(v6, { readonly: true });
    expect(all(after, "SELECT * FROM allocations ORDER BY id")).toEqual(rows);
    expect(all(after, "SELECT * FROM events ORDER BY id")).toEqual(events);
    expect(all(after, "SELECT * FROM projects ORDER BY id")).toEqual(projects);
    after.close();
    // Ids 3 and 7 were released before the upgrade: the next row is 8, as v6 would have made.
    const store = new Store(v6);
    const next = store.write(() =>
      store.insert({ app: "x", instance: "y", service: "z", port: 4000, created_at: "t" }),
    );
    expect(next.id).toBe(8);
    store.close();
  });

  test("each session belongs to the owner of what it holds; one holding nothing, to the daemon's user", () => {
    new Store(v6).close();
    const db = new Database(v6, { readonly: true });
    expect(
      all(
        db,
        "SELECT id, owner_uid, started_at, heartbeat_at, ttl_seconds FROM sessions ORDER BY id",
      ),
    ).toEqual([
      {
        id: "sess-alice",
        owner_uid: null,
        started_at: "2026-11-01T10:00:09Z",
        heartbeat_at: "2026-11-01T10:00:11Z",
        ttl_seconds: 600,
      },
      {
        id: "sess-bob",
        owner_uid: 1234,
        started_at: "2026-11-01T10:00:06Z",
        heartbeat_at: null,
        ttl_seconds: null,
      },
      {
        id: "sess-empty",
        owner_uid: null,
        started_at: "2026-11-01T10:00:12Z",
        heartbeat_at: null,
        ttl_seconds: null,
      },
    ]);
    db.close();
  });

  test("after the upgrade: another user's shop/main/web beside the daemon user's; one per owner; ports still one per host", () => {
    const store = new Store(v6);
    const add = (owner_uid: number | null, service: string, port: number) =>
      store.write(() =>
        store.insert({
          app: "shop",
          instance: "main",
          service,
          port,
          created_at: "t",
          owner_uid,
          name: `${service}.${port}.localhost`,
        }),
      );
    const bobs = add(1234, "web", 4001);
    expect(bobs).toMatchObject({ app: "shop", instance: "main", service: "web", owner_uid: 1234 });
    expect(store.byService(1234, "shop", "main", "web")?.port).toBe(4001);
    expect(store.byService(-1, "shop", "main", "web")?.port).toBe(3000);
    // The same owner twice: refused by the schema (the daemon's user's NULL owner included).
    expect(() => add(1234, "web", 4002)).toThrow(/UNIQUE constraint failed/);
    expect(() => add(null, "web", 4003)).toThrow(/UNIQUE constraint failed/);
    // A port is one per host, whoever asks.
    expect(() => add(4321, "web", 3000)).toThrow(/UNIQUE constraint failed: allocations\.port/);
    // Names under .localhost stay one per host.
    expect(() =>
      store.write(() =>
        store.insert({
          app: "a",
          instance: "b",
          service: "c",
          port: 4005,
          created_at: "t",
          owner_uid: 4321,
          name: "web.shop.localhost",
        }),
      ),
    ).toThrow(/UNIQUE constraint failed: allocations\.name/);
    // A lookup by name is one index search, not a scan.
    const plan = store.db
      .query<{ detail: string }, []>(
        "EXPLAIN QUERY PLAN SELECT id FROM allocations WHERE ifnull(owner_uid, -1) = 1234 AND app = 'shop' AND instance = 'main' AND service = 'web'",
      )
      .all()
      .map((r) => r.detail)
      .join("\n");
    expect(plan).toMatch(/SEARCH allocations USING (COVERING )?INDEX allocations_service/);
    // Sessions: one id per owner, the same id for two owners.
    const session = (id: string, owner: number | null) =>
      store.db.run("INSERT INTO sessions (id, owner_uid, started_at) VALUES (?, ?, 't')", [
        id,
        owner,
      ]);
    session("sess-bob", 4321);
    expect(() => session("sess-bob", 1234)).toThrow(/UNIQUE constraint failed/);
    expect(() => session("sess-alice", null)).toThrow(/UNIQUE constraint failed/);
    store.close();
  });
});
