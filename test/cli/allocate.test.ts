// `portctl allocate` against a real daemon: the seed's lines, -q, --json, --reuse, conflicts.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { allocate } from "../../src/cli/commands/allocate.ts";
import type { Allocation } from "../../src/core/model.ts";
import { type CliFixture, cliFixture, firstBindablePort, freePort } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";

let f: CliFixture;
let first = 0;
/** A port to claim by number: one nothing listens on now (never a fixed 8080). */
let web = 0;
beforeEach(async () => {
  f = await cliFixture("myapp");
  first = firstBindablePort(3000);
  web = freePort();
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

test("prints the seed's line; --app defaults to the folder name", async () => {
  const io = f.io();
  expect(await allocate({ instance: "dev", service: "postgres" }, io)).toBe(0);
  expect(io.stdout).toEqual([`allocated port ${first} (id=1) for myapp/dev/postgres`]);
  expect(io.stderr).toEqual([]);

  const second = f.io();
  expect(await allocate({ instance: "dev", service: "web", port: web }, second)).toBe(0);
  expect(second.stdout).toEqual([`allocated port ${web} (id=2) for myapp/dev/web`]);

  const rows = await f.allocations();
  expect(rows.map((a) => [a.id, a.app, a.instance, a.service, a.port])).toEqual([
    [1, "myapp", "dev", "postgres", first],
    [2, "myapp", "dev", "web", web],
  ]);
});

test("through the parser: flags reach the API, the instance defaults to 'default' outside git", async () => {
  const run = await f.run(["allocate", "--service", "redis", "--app", "  shop  "]);
  expect(run).toEqual({
    code: 0,
    out: [`allocated port ${first} (id=1) for shop/default/redis`],
    err: [],
  });
  expect((await f.allocations())[0]).toMatchObject({ app: "shop", instance: "default" });
});

test("-q prints the port number alone", async () => {
  const run = await f.run(["allocate", "-q", "--instance", "dev", "--service", "web"]);
  expect(run).toEqual({ code: 0, out: [String(first)], err: [] });
  const quiet = await f.run(["allocate", "--quiet", "--service", "db", "--port", String(web)]);
  expect(quiet.out).toEqual([String(web)]);
  expect((await f.allocations()).map((a) => a.port)).toEqual([first, web]);
});

test("--json prints exactly the allocation the API holds", async () => {
  const run = await f.run(["allocate", "--json", "--instance", "dev", "--service", "postgres"]);
  expect(run.code).toBe(0);
  expect(run.err).toEqual([]);
  const printed = JSON.parse(run.out.join("\n")) as Allocation;
  const [stored] = await f.api<Allocation[]>("/v1/allocations?service=postgres");
  expect(printed).toEqual(stored as Allocation);
  expect(Object.keys(printed).sort()).toEqual(
    [
      "app",
      "created_at",
      "id",
      "instance",
      "port",
      "service",
      "checkout",
      "last_seen",
      "lease_pid",
      "lease_started_at",
      "block_id",
      "name",
      "url",
      "lease_session",
    ].sort(),
  );
  expect(printed.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test("--reuse twice gives the same port and one allocation", async () => {
  const argv = ["allocate", "--reuse", "--instance", "dev", "--service", "postgres"];
  const a = await f.run(argv);
  const b = await f.run(argv);
  expect(a.out).toEqual([`allocated port ${first} (id=1) for myapp/dev/postgres`]);
  expect(b).toEqual({
    code: 0,
    out: [`reusing port ${first} (id=1) for myapp/dev/postgres`],
    err: [],
  });
  const q = await f.run([...argv, "-q"]);
  expect(q.out).toEqual([String(first)]);
  expect(await f.allocations()).toHaveLength(1);
});

test("the same service twice without --reuse: exit 1 and a hint, nothing added", async () => {
  const argv = ["allocate", "--instance", "dev", "--service", "postgres"];
  await f.run(argv);
  const before = await f.allocations();
  const again = await f.run(argv);
  expect(again).toEqual({
    code: 1,
    out: [],
    err: [
      `error: myapp/dev/postgres (id=1) already has port ${first}; pass --reuse to get it back, or release it first`,
    ],
  });
  expect(await f.allocations()).toEqual(before);
});

test("a port held by another service: exit 1 naming the holder", async () => {
  await f.run(["allocate", "--instance", "dev", "--service", "web", "--port", String(web)]);
  const before = await f.allocations();
  const argv = ["allocate", "--app", "other", "--service", "api", "--port", String(web)];
  expect(await f.run(argv)).toEqual({
    code: 1,
    out: [],
    err: [`error: port ${web} is already allocated to myapp/dev/web (id=1)`],
  });
  expect(await f.allocations()).toEqual(before);
});

test("a port some process listens on: exit 1, said plainly, nothing registered", async () => {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const run = await f.run(["allocate", "--service", "web", "--port", String(listener.port)]);
    expect(run.code).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(
      new RegExp(
        `^error: port ${listener.port} is in use on this machine( by .+)?, not registered — if it is web's own server, pass --adopt to register it$`,
      ),
    );
    expect(await f.allocations()).toEqual([]);
  } finally {
    listener.stop(true);
  }
});

test("--adopt registers a port that is already listening; the JSON error has no hint in it", async () => {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const port = String(listener.port);
    const refused = await f.run(["allocate", "--service", "web", "--port", port, "--json"]);
    expect(refused.code).toBe(1);
    const body = JSON.parse(refused.out.join("\n"));
    expect(Object.keys(body).sort()).toEqual(["code", "error", "port", "system"]);
    expect(body).toMatchObject({ code: "port_in_use", port: listener.port });

    const run = await f.run(["allocate", "--service", "web", "--port", port, "--adopt"]);
    expect(run).toEqual({
      code: 0,
      out: [`allocated port ${port} (id=1) for myapp/default/web`],
      err: [],
    });
    const rows = await f.allocations();
    expect(rows.map((a) => [a.service, a.port])).toEqual([["web", listener.port]]);
    // A port that nobody listens on is allocated as usual with --adopt too.
    const free = String(freePort());
    const plain = await f.run(["allocate", "--service", "db", "--port", free, "--adopt", "-q"]);
    expect(plain).toEqual({ code: 0, out: [free], err: [] });
  } finally {
    listener.stop(true);
  }
});

test("--adopt without --port: one line, nothing sent", async () => {
  const run = await f.run(["allocate", "--service", "web", "--adopt"]);
  expect(run).toEqual({
    code: 1,
    out: [],
    err: ["error: --adopt registers a port something already listens on: pass it with --port N"],
  });
  expect(await f.allocations()).toEqual([]);
});

test("--count N: a block of contiguous ports, one line; -q prints each; --json the API's body", async () => {
  const run = await f.run(["allocate", "--service", "cache", "--count", "3"]);
  expect(run.code).toBe(0);
  const rows = await f.allocations();
  expect(rows.map((a) => a.service)).toEqual(["cache", "cache-2", "cache-3"]);
  const [lo, , hi] = rows.map((a) => a.port);
  expect(hi).toBe((lo as number) + 2);
  expect(run.out).toEqual([
    `allocated ports ${lo}-${hi} (block ${rows[0]?.id}: cache, cache-2, cache-3) for myapp/default/cache`,
  ]);
  const again = await f.run(["allocate", "--service", "cache", "--count", "3", "--reuse", "-q"]);
  expect(again.out).toEqual([rows.map((a) => a.port).join(" ")]);
  const json = await f.run(["allocate", "--service", "q", "--count", "2", "--json"]);
  const body = JSON.parse(json.out.join("\n")) as Allocation & { block: Allocation[] };
  expect(body.block.map((a) => a.block_id)).toEqual([body.id, body.id]);
  for (const bad of ["0", "1025", "2x"]) {
    const r = await f.run(["allocate", "--service", "z", "--count", bad]);
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe(
      `error: invalid value '${bad}' for --count: must be an integer between 1 and 1024`,
    );
  }
  expect(await f.allocations()).toHaveLength(5);
});
