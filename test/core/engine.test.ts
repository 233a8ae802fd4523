// The engine client against fake engines on Unix sockets of our own: what it reads from a
// well-formed reply, and what it does with hostile ones (names with controls and bidi marks,
// wrong shapes, a reply too large, a socket that never answers). No real engine needed.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  composeProjectFolders,
  engineSockets,
  isEngineProcess,
  socketEngine,
} from "../../src/core/engine.ts";

const dir = mkdtempSync(join(tmpdir(), "pst-engine-"));
const stops: (() => void)[] = [];
afterAll(() => {
  for (const stop of stops) stop();
  rmSync(dir, { recursive: true, force: true });
});

let serial = 0;
/** A fake engine answering GET /containers/json with `reply`; its requests' URLs are kept. */
function fakeSocket(reply: (url: URL) => Response): { path: string; urls: URL[] } {
  const path = join(dir, `e${++serial}.sock`);
  const urls: URL[] = [];
  const server = Bun.serve({
    unix: path,
    fetch(req) {
      const url = new URL(req.url);
      urls.push(url);
      return reply(url);
    },
  });
  stops.push(() => server.stop(true));
  return { path, urls };
}

const SHOP_DB = {
  Id: "a".repeat(64),
  Names: ["/shop-db-1"],
  Labels: {
    "com.docker.compose.project": "shop",
    "com.docker.compose.project.working_dir": "/home/me/work/shop",
    "com.docker.compose.service": "db",
    unrelated: "x",
  },
  Ports: [
    { IP: "0.0.0.0", PrivatePort: 5432, PublicPort: 5432, Type: "tcp" },
    { IP: "::", PrivatePort: 5432, PublicPort: 5432, Type: "tcp" },
    { PrivatePort: 9999, Type: "tcp" },
    { IP: "0.0.0.0", PrivatePort: 53, PublicPort: 5353, Type: "udp" },
  ],
  State: "running",
};

describe("socketEngine", () => {
  test("maps each published TCP port to its container: name, Compose project, folder, service", async () => {
    const fake = fakeSocket(() => Response.json([SHOP_DB]));
    const engine = socketEngine(() => [fake.path]);
    const all = await engine.published();
    expect([...all.keys()]).toEqual([5432]); // not the unpublished 9999, not UDP 5353
    expect(all.get(5432)).toEqual({
      id: "a".repeat(64),
      name: "shop-db-1",
      project: "shop",
      working_dir: "/home/me/work/shop",
      service: "db",
    });
    // A question about one port asks the engine for that port only (the reply stays small).
    const one = await engine.published(5432);
    expect(one.get(5432)?.name).toBe("shop-db-1");
    expect(fake.urls.at(-1)?.pathname).toBe("/containers/json");
    expect(JSON.parse(fake.urls.at(-1)?.searchParams.get("filters") ?? "")).toEqual({
      publish: ["5432/tcp"],
    });
    // An engine that ignores the filter still only gives the port asked about.
    expect([...(await engine.published(6000)).keys()]).toEqual([]);
  });

  test("a container without labels or name: its short id, no Compose fields", async () => {
    const fake = fakeSocket(() =>
      Response.json([
        {
          Id: "b".repeat(64),
          Names: null,
          Labels: null,
          Ports: [{ PublicPort: 8080, Type: "tcp" }],
        },
      ]),
    );
    const got = (await socketEngine(() => [fake.path]).published()).get(8080);
    expect(got).toEqual({ id: "b".repeat(64), name: "bbbbbbbbbbbb" });
  });

  test("control characters and bidi marks in names are kept as data (the CLI escapes them)", async () => {
    const hostile = {
      ...SHOP_DB,
      Names: ["/db\u001b]0;PWNED\u0007\u202egnp.exe"],
      Labels: { "com.docker.compose.project": "shop\r\nFAKE LINE" },
    };
    const fake = fakeSocket(() => Response.json([hostile]));
    const got = (await socketEngine(() => [fake.path]).published(5432)).get(5432);
    expect(got?.name).toBe("db\u001b]0;PWNED\u0007\u202egnp.exe");
    expect(got?.project).toBe("shop\r\nFAKE LINE");
  });

  test("a reply of the wrong shape, not JSON, an error status or over-long fields: nothing", async () => {
    const replies = [
      () => Response.json({ message: "not a list" }),
      () => new Response("<html>", { headers: { "content-type": "application/json" } }),
      () => Response.json([SHOP_DB], { status: 500 }),
      () => Response.json([{ ...SHOP_DB, Names: [`/${"n".repeat(300)}`] }]),
      () => Response.json([{ ...SHOP_DB, Ports: [{ PublicPort: 70000, Type: "tcp" }] }]),
      () => Response.json([{ ...SHOP_DB, Labels: { "com.docker.compose.project": 5 } }]),
    ];
    for (const reply of replies) {
      const fake = fakeSocket(reply);
      expect((await socketEngine(() => [fake.path]).published()).size).toBe(0);
    }
  });

  test("a reply larger than the limit is dropped, declared or streamed", async () => {
    const big = JSON.stringify(Array.from({ length: 2000 }, () => SHOP_DB));
    const declared = fakeSocket(
      () => new Response(big, { headers: { "content-length": String(big.length) } }),
    );
    const streamed = fakeSocket(
      () =>
        new Response(
          new ReadableStream({
            pull(c) {
              c.enqueue(new TextEncoder().encode(big));
            },
          }),
        ),
    );
    for (const fake of [declared, streamed]) {
      const engine = socketEngine(() => [fake.path], { maxBytes: 64 * 1024, timeoutMs: 5000 });
      expect((await engine.published()).size).toBe(0);
    }
    // Under the limit, the same reply is read.
    const ok = fakeSocket(() => new Response(big));
    expect((await socketEngine(() => [ok.path], { maxBytes: big.length }).published()).size).toBe(
      1,
    );
  });

  test("a socket that accepts and never answers is given up at the deadline; another still answers", async () => {
    const silent = join(dir, "silent.sock");
    const listener = Bun.listen({ unix: silent, socket: { data() {} } });
    stops.push(() => listener.stop(true));
    const fake = fakeSocket(() => Response.json([SHOP_DB]));
    const engine = socketEngine(() => [silent, fake.path], { timeoutMs: 300 });
    // Without the deadline this waits forever and the test fails at bun's 5 s test timeout.
    const got = await engine.published(5432);
    expect(got.get(5432)?.name).toBe("shop-db-1");
    const alone = socketEngine(() => [silent], { timeoutMs: 300 });
    expect((await alone.published(5432)).size).toBe(0);
  });

  test("a socket path where nothing listens: nothing, at once", async () => {
    const stale = join(dir, "stale.sock");
    writeFileSync(stale, "");
    expect((await socketEngine(() => [stale, join(dir, "none.sock")]).published()).size).toBe(0);
  });
});

describe("engineSockets", () => {
  test("DOCKER_HOST unix:// is the only socket; tcp:// means none on this machine", () => {
    expect(engineSockets({ DOCKER_HOST: "unix:///x/docker.sock" })).toEqual(["/x/docker.sock"]);
    expect(engineSockets({ DOCKER_HOST: "tcp://10.0.0.1:2375" })).toEqual([]);
  });

  test("the usual places, only where a socket exists: Podman's and Docker Desktop's included", () => {
    const home = mkdtempSync(join(dir, "home-"));
    const runtime = mkdtempSync(join(dir, "run-"));
    Bun.spawnSync(["mkdir", "-p", join(home, ".docker/run"), join(runtime, "podman")]);
    const servers = [
      join(home, ".docker/run/docker.sock"),
      join(runtime, "podman/podman.sock"),
    ].map((unix) => Bun.listen({ unix, socket: { data() {} } }));
    stops.push(() => {
      for (const s of servers) s.stop(true);
    });
    writeFileSync(join(runtime, "docker.sock"), ""); // a file, not a socket
    const found = engineSockets({ HOME: home, XDG_RUNTIME_DIR: runtime }).filter(
      (p) => !p.startsWith("/var/run") && !p.startsWith("/run/"),
    );
    expect(found).toEqual([
      join(runtime, "podman/podman.sock"),
      join(home, ".docker/run/docker.sock"),
    ]);
  });
});

describe("isEngineProcess", () => {
  test("the engines' proxies, also under the kernel's 15-byte and lsof's 9-byte names", () => {
    for (const name of [
      "docker-proxy",
      "rootlessport",
      "rootlesskit",
      "dockerd",
      "gvproxy",
      "podman",
    ])
      expect(isEngineProcess(name)).toBe(true);
    expect(isEngineProcess("com.docker.back")).toBe(true);
    expect(isEngineProcess("com.docke")).toBe(true);
    for (const name of ["postgres", "node", "docker", "dock", "", undefined])
      expect(isEngineProcess(name)).toBe(false);
  });
});

describe("composeProjectFolders", () => {
  test("asks for every container of the project, stopped ones too, and keeps only its absolute folders", async () => {
    const other = {
      ...SHOP_DB,
      Id: "b".repeat(64),
      Labels: {
        ...SHOP_DB.Labels,
        "com.docker.compose.project": "blog",
        "com.docker.compose.project.working_dir": "/home/me/src/blog",
      },
    };
    const relative = {
      ...SHOP_DB,
      Id: "c".repeat(64),
      Labels: { ...SHOP_DB.Labels, "com.docker.compose.project.working_dir": "work/shop" },
    };
    // A fake that ignores the filter: the label is checked again on our side.
    const fake = fakeSocket(() => Response.json([SHOP_DB, SHOP_DB, other, relative]));
    expect(await composeProjectFolders([fake.path], "shop")).toEqual(["/home/me/work/shop"]);
    const url = fake.urls[0] as URL;
    expect(url.searchParams.get("all")).toBe("1");
    expect(JSON.parse(url.searchParams.get("filters") ?? "{}")).toEqual({
      label: ["com.docker.compose.project=shop"],
    });
  });

  test("no engine, a silent one or a reply of the wrong shape: nothing", async () => {
    const silent = fakeSocket(() => new Promise<Response>(() => {}) as unknown as Response);
    const wrong = fakeSocket(() => Response.json({ message: "no" }));
    expect(await composeProjectFolders([join(dir, "none.sock"), wrong.path], "shop")).toEqual([]);
    expect(await composeProjectFolders([silent.path], "shop", { timeoutMs: 100 })).toEqual([]);
  });
});
