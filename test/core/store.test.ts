// The SQLite store: schema and the database's own uniqueness, queries, deletes, migrations, the
// files it creates or refuses, and the allocated-ports cache shared with a second connection.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSY_TIMEOUT_MS } from "../../src/core/config.ts";
import { PortError } from "../../src/core/errors.ts";
import { SCHEMA_VERSION } from "../../src/core/migrations.ts";
import { LEASES_SQL } from "../../src/core/queries.ts";
import { type NewAllocation, Store, uniqueViolation } from "../../src/core/store.ts";
import { userVersion } from "../helpers/assert.ts";
import { CREATED_AT, STORED } from "../helpers/fakes.ts";

const row = (service: string, port: number, app = "shop", instance = "main") =>
  ({
    app,
    instance,
    service,
    port,
    created_at: CREATED_AT,
    ...STORED,
  }) satisfies NewAllocation;

/** The error a call throws, so tests can assert on its fields. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("schema and uniqueness", () => {
  let store: Store;
  beforeEach(() => {
    store = new Store(":memory:");
  });
  afterEach(() => store.close());

  test("insert returns the stored row with an id", () => {
    expect(store.insert(row("web", 3000))).toEqual({
      id: 1,
      ...row("web", 3000),
      name: "web.shop.localhost",
      url: null,
    });
    expect(store.byPort(3000)?.service).toBe("web");
    expect(store.byService(-1, "shop", "main", "web")?.port).toBe(3000);
    expect(store.byPort(3001)).toBeNull();
    expect(store.byService(-1, "shop", "main", "db")).toBeNull();
  });

  test("UNIQUE(port) holds for direct SQL, and maps to port_allocated", () => {
    store.db.run(
      "INSERT INTO allocations (app, instance, service, port, created_at) VALUES ('a','i','s',80,'x')",
    );
    const err = thrown(() =>
      store.db.run(
        "INSERT INTO allocations (app, instance, service, port, created_at) VALUES ('b','i','s',80,'x')",
      ),
    );
    expect(uniqueViolation(err)).toBe("port_allocated");
    expect(store.count()).toBe(1);
  });

  test("UNIQUE(app, instance, service) holds for direct SQL, and maps to service_allocated", () => {
    store.insert(row("web", 3000));
    const err = thrown(() =>
      store.db.run(
        "INSERT INTO allocations (app, instance, service, port, created_at) VALUES ('shop','main','web',3001,'x')",
      ),
    );
    expect(uniqueViolation(err)).toBe("service_allocated");
    // Any one name differing is a different service.
    store.insert(row("web", 3001, "shop", "feature"));
    store.insert(row("web", 3002, "blog", "main"));
    store.insert(row("db", 3003));
    expect(store.count()).toBe(4);
  });

  test("the port must be 1-65535 even for direct SQL", () => {
    for (const port of [0, 65536]) {
      expect(() => store.insert(row("web", port))).toThrow(/CHECK constraint/);
    }
    expect(store.count()).toBe(0);
  });

  test("uniqueViolation ignores errors that are not UNIQUE violations", () => {
    expect(uniqueViolation(new Error("UNIQUE constraint failed: allocations.port"))).toBeNull();
    expect(uniqueViolation(thrown(() => store.db.run("SELECT * FROM nope")))).toBeNull();
  });
});

describe("queries and deletes", () => {
  let store: Store;
  beforeEach(() => {
    store = new Store(":memory:");
    store.insert(row("web", 3005));
    store.insert(row("db", 3001));
    store.insert(row("web", 3002, "shop", "feature"));
    store.insert(row("web", 3000, "blog", "main"));
  });
  afterEach(() => store.close());

  const ports = (rows: { port: number }[]) => rows.map((r) => r.port);

  test("list is ordered by id, not by port", () => {
    expect(store.list().map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(ports(store.list())).toEqual([3005, 3001, 3002, 3000]);
  });

  test.each([
    [{ app: "shop" }, [3005, 3001, 3002]],
    [{ instance: "main" }, [3005, 3001, 3000]],
    [{ service: "web" }, [3005, 3002, 3000]],
    [{ app: "shop", instance: "main", service: "web" }, [3005]],
    [{ app: "nobody" }, []],
  ])("list(%o)", (q, expected) => {
    expect(ports(store.list(q))).toEqual(expected);
  });

  test("deleteById returns the row once, then null", () => {
    expect(store.deleteById(2)).toEqual({
      id: 2,
      ...row("db", 3001),
      name: "db.shop.localhost",
      url: null,
    });
    expect(store.deleteById(2)).toBeNull();
    expect(store.deleteById(99)).toBeNull();
    expect(ports(store.list())).toEqual([3005, 3002, 3000]);
  });

  test("deleteWhere deletes every row matching all fields, in id order", () => {
    const deleted = store.deleteWhere({ app: "shop", service: "web" });
    expect(deleted.map((r) => r.id)).toEqual([1, 3]);
    expect(ports(store.list())).toEqual([3001, 3000]);
    expect(store.deleteWhere({ port: 3000 }).map((r) => r.service)).toEqual(["web"]);
    expect(store.deleteWhere({ app: "nobody" })).toEqual([]);
    expect(ports(store.list())).toEqual([3001]);
  });

  test("deleteWhere refuses an empty filter and deletes nothing", () => {
    const err = thrown(() => store.deleteWhere({}));
    expect(err).toBeInstanceOf(PortError);
    expect((err as PortError).code).toBe("bad_request");
    expect(store.count()).toBe(4);
  });

  test("ids are never reused after a delete (AUTOINCREMENT)", () => {
    store.deleteById(4);
    expect(store.insert(row("cache", 3004)).id).toBe(5);
    store.deleteWhere({ app: "shop" });
    expect(store.insert(row("web", 3005)).id).toBe(6);
  });
});

describe("files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "port-server-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const mode = (path: string) => statSync(path).mode & 0o777;

  test("a new database file is created 0600, WAL included, and keeps its rows", () => {
    const path = join(dir, "ports.db");
    const store = new Store(path);
    store.insert(row("web", 3000));
    expect(mode(path)).toBe(0o600);
    expect(mode(`${path}-wal`)).toBe(0o600);
    store.close();
    const again = new Store(path);
    expect(again.list().map((r) => r.port)).toEqual([3000]);
    again.close();
  });

  test("a port's holder and last event are remembered, yet never stale: after our write at once, after another connection's from the next turn", async () => {
    const path = join(dir, "ports.db");
    const ours = new Store(path);
    const theirs = new Store(path);
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      expect(ours.portRecord(3000)).toEqual({ holder: null, lastEvent: null });
      theirs.write(() => theirs.insert(row("web", 3000)));
      // data_version is asked once per turn of the event loop: this turn's answers agree.
      expect(ours.portRecord(3000).holder).toBeNull();
      await nextTurn();
      expect(ours.portRecord(3000).holder).toMatchObject({ service: "web", port: 3000 });
      expect(ours.lastEvent(3000)?.kind).toBe("allocated");
      ours.write(() => ours.deleteWhere({ port: 3000 }, { reason: "test" }));
      expect(ours.portRecord(3000).holder).toBeNull();
      expect(ours.lastEvent(3000)?.kind).toBe("released");
      expect(ours.portRecord(3000)).toEqual(theirs.portRecord(3000));
    } finally {
      ours.close();
      theirs.close();
    }
  });

  test("the map of environment variables follows our writes, rolled-back ones and another connection's", () => {
    const path = join(dir, "ports.db");
    const ours = new Store(path);
    const theirs = new Store(path);
    const twin = (service: string) =>
      ours.write(() => ours.envKeyTwin(-1, "shop", "main", service)?.service ?? null);
    try {
      expect(twin("web_api")).toBeNull(); // loaded, empty
      ours.write(() => ours.insert(row("web-api", 3000)));
      expect(twin("web_api")).toBe("web-api");
      expect(twin("web-api")).toBeNull(); // the same service is not its own twin
      expect(twin("Web.Api")).toBe("web-api");
      ours.deleteWhere({ port: 3000 }, { reason: "test" });
      expect(twin("web_api")).toBeNull();
      expect(() =>
        ours.write(() => {
          ours.insert(row("cache-1", 3002));
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      expect(twin("cache_1")).toBeNull();
      theirs.write(() => theirs.insert(row("db-main", 3001)));
      expect(twin("db_main")).toBe("db-main");
      expect(ours.write(() => ours.envKeyTwin(-1, "shop", "other", "db_main"))).toBeNull();
    } finally {
      ours.close();
      theirs.close();
    }
  });

  test("an empty existing file becomes the database", () => {
    const path = join(dir, "empty.db");
    writeFileSync(path, "", { mode: 0o600 });
    const store = new Store(path);
    expect(store.count()).toBe(0);
    store.close();
  });

  test.each([
    ["text", Buffer.from("hello: this is my notes file\n")],
    ["short", Buffer.from("SQLite")],
    ["binary", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2])],
  ])("a %s file that is not SQLite is refused and left byte-for-byte untouched", (_, bytes) => {
    const path = join(dir, "notes.db");
    writeFileSync(path, bytes, { mode: 0o644 });
    const err = thrown(() => new Store(path));
    expect(err).toBeInstanceOf(PortError);
    expect((err as PortError).code).toBe("storage");
    expect((err as Error).message).toBe(`${path} is not an SQLite database; refusing to touch it`);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(mode(path)).toBe(0o644);
    expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);
  });
});

describe("migrations", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "port-server-migrate-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("an empty database at user_version 0 is upgraded", () => {
    const path = join(dir, "old.db");
    new Database(path).close();
    expect(userVersion(path)).toBe(0);
    const store = new Store(path);
    store.insert(row("web", 3000));
    expect(store.count()).toBe(1);
    store.close();
    expect(userVersion(path)).toBe(SCHEMA_VERSION);
  });

  test("another program's SQLite file (schema 0, none of its tables ours) is refused, untouched", () => {
    const path = join(dir, "notes.db");
    const other = new Database(path);
    other.run("CREATE TABLE notes (text TEXT)");
    other.run("INSERT INTO notes VALUES ('keep me')");
    other.close();
    const before = readFileSync(path);
    expect(() => new Store(path)).toThrow(
      `${path} is not a port-server database (it has tables notes); refusing to touch it`,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(userVersion(path)).toBe(0);
  });

  test("reopening a current database runs no migration again", () => {
    const path = join(dir, "ports.db");
    new Store(path).close();
    const store = new Store(path);
    expect(store.count()).toBe(0);
    store.close();
    expect(userVersion(path)).toBe(SCHEMA_VERSION);
  });

  test("a database from a newer port-server is refused with a clear message", () => {
    const path = join(dir, "future.db");
    const future = new Database(path);
    future.run("CREATE TABLE allocations (id INTEGER PRIMARY KEY, port INTEGER, shape TEXT)");
    future.run("PRAGMA user_version = 99");
    future.close();

    const err = thrown(() => new Store(path));
    expect(err).toBeInstanceOf(PortError);
    expect((err as PortError).code).toBe("storage");
    expect((err as Error).message).toBe(
      `database schema version 99 is newer than this port-server understands (${SCHEMA_VERSION}); upgrade port-server`,
    );
    expect(userVersion(path)).toBe(99);
    // Refused before the switch to WAL: no side files, the journal mode untouched.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const check = new Database(path, { readonly: true });
    expect(
      check.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode,
    ).toBe("delete");
    check.close();
  });
});

describe("durability settings, read back from the connection", () => {
  test("WAL, synchronous = FULL (2), and the busy timeout", () => {
    const dir = mkdtempSync(join(tmpdir(), "port-server-pragmas-"));
    try {
      const store = new Store(join(dir, "ports.db"));
      const pragma = <T>(name: string) =>
        Object.values(store.db.query(`PRAGMA ${name}`).get() as Record<string, T>)[0];
      // NORMAL (1) could lose the last allocations on power loss: a port handed out twice.
      expect(pragma<number>("synchronous")).toBe(2);
      expect(pragma<string>("journal_mode")).toBe("wal");
      expect(pragma<number>("busy_timeout")).toBe(BUSY_TIMEOUT_MS);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("allocatedPorts cache", () => {
  let dir: string;
  let a: Store;
  let b: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "port-server-cache-"));
    a = new Store(join(dir, "ports.db"));
    b = new Store(join(dir, "ports.db"));
  });
  afterEach(() => {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const held = (s: Store, port: number) => s.write(() => s.allocatedPorts()[port]);

  test("follows this store's own inserts and deletes", () => {
    expect(held(a, 3000)).toBe(0);
    const { id } = a.write(() => a.insert(row("web", 3000)));
    expect(held(a, 3000)).toBe(1);
    a.deleteById(id);
    expect(held(a, 3000)).toBe(0);
    a.write(() => a.insert(row("web", 3001)));
    a.deleteWhere({ service: "web" });
    expect(held(a, 3001)).toBe(0);
  });

  test("sees what a second store on the same file commits", () => {
    expect(held(a, 3000)).toBe(0); // loads and caches the map
    const { id } = b.write(() => b.insert(row("web", 3000)));
    expect(held(a, 3000)).toBe(1);
    b.deleteById(id);
    expect(held(a, 3000)).toBe(0);
    b.write(() => b.insert(row("db", 3001)));
    b.deleteWhere({ port: 3001 });
    b.write(() => b.insert(row("db", 3002)));
    expect([held(a, 3001), held(a, 3002)]).toEqual([0, 1]);
  });

  test("a rolled-back write leaves no phantom port in the cache", () => {
    expect(held(a, 3000)).toBe(0);
    expect(() =>
      a.write(() => {
        a.insert(row("web", 3000));
        throw new PortError("internal", "abort");
      }),
    ).toThrow("abort");
    expect(a.count()).toBe(0);
    expect(held(a, 3000)).toBe(0);
  });
});

describe("query plans of what every auto-assign runs", () => {
  test("leases() uses the partial index, never a scan of the whole table", () => {
    const store = new Store(":memory:");
    try {
      const plan = store.db
        .query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${LEASES_SQL}`)
        .all()
        .map((r) => r.detail);
      expect(plan.join(" ")).toContain("allocations_lease");
      expect(plan.join(" ")).not.toContain("SCAN allocations");
      store.write(() => {
        store.insert({ ...row("b", 3001), lease_pid: 7, lease_started_at: "x" });
        store.insert({ ...row("a", 3000), lease_pid: 8, lease_started_at: "x" });
        store.insert(row("c", 3002));
      });
      expect(store.leases().map((a) => a.port)).toEqual([3001, 3000]);
    } finally {
      store.close();
    }
  });
});
