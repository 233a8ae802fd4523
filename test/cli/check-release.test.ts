// `portctl check`, `release` and `health` against a real daemon: lines, exit codes, --json, and
// what a release leaves behind.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { check } from "../../src/cli/commands/check.ts";
import { release } from "../../src/cli/commands/release.ts";
import type { Allocation } from "../../src/core/model.ts";
import { type CliFixture, cliFixture, firstBindablePort } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";

let f: CliFixture;
let pg: Allocation;
let web: Allocation;
let other: Allocation;
beforeEach(async () => {
  f = await cliFixture("myapp");
  pg = await f.alloc("--instance", "dev", "--service", "postgres");
  const webPort = String(firstBindablePort(8080));
  web = await f.alloc("--instance", "dev", "--service", "web", "--port", webPort);
  other = await f.alloc("--app", "other", "--instance", "ci", "--service", "db");
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

describe("check", () => {
  test("an allocated port: the holder line and exit 1", async () => {
    const io = f.io();
    expect(await check({ port: pg.port }, io)).toBe(1);
    expect(io.stdout).toEqual([`port ${pg.port} is allocated to myapp/dev/postgres (id=1)`]);
    expect(io.stderr).toEqual([]);
  });

  test("a free port: exit 0", async () => {
    const free = firstBindablePort(9000);
    expect(await f.run(["check", "--port", String(free)])).toEqual({
      code: 0,
      out: [`port ${free} is available`],
      err: [],
    });
  });

  test("a port a process listens on but nobody registered: exit 1, and it says so", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const run = await f.run(["check", "--port", String(listener.port)]);
      expect(run.code).toBe(1);
      expect(run.out).toHaveLength(1);
      expect(run.out[0]).toMatch(
        new RegExp(`^port ${listener.port} is in use on this machine( by .+)?, not registered$`),
      );
    } finally {
      listener.stop(true);
    }
  });

  test("--json prints the API's answer and keeps the exit code", async () => {
    const taken = await f.run(["check", "--json", "--port", String(pg.port)]);
    expect(taken.code).toBe(1);
    const body = JSON.parse(taken.out.join("\n"));
    expect(body).toEqual(await f.api(`/v1/ports/${pg.port}`));
    expect(body).toMatchObject({ port: pg.port, available: false, holder: pg });

    const free = firstBindablePort(9000);
    const open = await f.run(["check", "--json", "--port", String(free)]);
    expect(open.code).toBe(0);
    expect(JSON.parse(open.out.join("\n"))).toEqual(await f.api(`/v1/ports/${free}`));
  });
});

describe("release", () => {
  test("--id: the seed's line, and only that allocation goes", async () => {
    const io = f.io();
    expect(await release({ id: 1 }, io)).toBe(0);
    expect(io.stdout).toEqual(["released allocation 1"]);
    expect(io.stderr).toEqual([]);
    expect(await f.allocations()).toEqual([web, other]);
    expect(await f.run(["check", "--port", String(pg.port)])).toMatchObject({ code: 0 });
  });

  test("--id of nothing: exit 1, not found", async () => {
    expect(await f.run(["release", "--id", "99"])).toEqual({
      code: 1,
      out: [],
      err: ["error: allocation not found"],
    });
    expect(await f.allocations()).toEqual([pg, web, other]);
  });

  test("--json prints the API's answer", async () => {
    const byId = await f.run(["release", "--json", "--id", "2"]);
    expect(byId.code).toBe(0);
    expect(JSON.parse(byId.out.join("\n"))).toEqual({ status: "deleted" });
    const byFilter = await f.run(["release", "--json", "--app", "other"]);
    expect(JSON.parse(byFilter.out.join("\n"))).toEqual({ deleted: 1 });
    expect(await f.allocations()).toEqual([pg]);
  });

  test("no --id, --app or --port: this checkout's app and instance only", async () => {
    // The fixture's folder is no git checkout: instance "default", where nothing is allocated.
    expect(await f.run(["release"])).toEqual({
      code: 1,
      out: [],
      err: ["error: no allocations match app=myapp instance=default"],
    });
    expect(await f.allocations()).toEqual([pg, web, other]);
    expect(await f.run(["release", "--instance", "dev"])).toEqual({
      code: 0,
      out: ["released 2 allocations (app=myapp instance=dev)"],
      err: [],
    });
    expect(await f.allocations()).toEqual([other]);
  });

  test("filters are AND-ed with the detected app", async () => {
    const run = await f.run(["release", "--instance", "dev", "--service", "web"]);
    expect(run.out).toEqual(["released 1 allocation (app=myapp instance=dev service=web)"]);
    expect(await f.allocations()).toEqual([pg, other]);
    const none = await f.run(["release", "--instance", "ci"]);
    expect(none).toEqual({
      code: 1,
      out: [],
      err: ["error: no allocations match app=myapp instance=ci"],
    });
    expect(await f.allocations()).toEqual([pg, other]);
  });

  test("--port alone releases that port whatever its app", async () => {
    const run = await f.run(["release", "--port", String(other.port)]);
    expect(run.out).toEqual([`released 1 allocation (port=${other.port})`]);
    expect(await f.allocations()).toEqual([pg, web]);
  });

  test.each(["--app", "--instance", "--service", "--port"])(
    "--id with %s is refused and nothing is released",
    async (flag) => {
      const value = flag === "--port" ? String(web.port) : "web";
      const run = await f.run(["release", "--id", "1", flag, value]);
      expect(run).toEqual({
        code: 1,
        out: [],
        err: ["error: --id cannot be combined with --app, --instance, --service or --port"],
      });
      expect(await f.allocations()).toEqual([pg, web, other]);
    },
  );
});

describe("health", () => {
  test("exit 0 with the daemon's pid; --json is the API's /healthz", async () => {
    const run = await f.run(["health"]);
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(1);
    expect(run.out[0]).toMatch(
      new RegExp(
        `^port-server is healthy \\(pid ${f.daemon.pid}, version .+\\) at http://127\\.0\\.0\\.1:${f.daemon.port}$`,
      ),
    );
    const json = await f.run(["health", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out.join("\n"))).toEqual(await f.api("/healthz"));
  });
});
