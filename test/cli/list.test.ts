// `portctl list`: the aligned table in local time, the detected-app default, filters, --json.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { list } from "../../src/cli/commands/list.ts";
import type { Allocation } from "../../src/core/model.ts";
import { type CliFixture, cliFixture, firstBindablePort, shiftedTime } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";

let f: CliFixture;
beforeEach(async () => {
  f = await cliFixture("myapp");
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

/** Runs `fn` with the process in another time zone (Bun applies TZ changes at once). */
async function inTimeZone<T>(tz: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

test("the seed's table: aligned columns, local time, whether each port is listening", async () => {
  const pgPort = firstBindablePort(3000);
  const webPort = firstBindablePort(8080);
  const pg = await f.alloc("--instance", "dev", "--service", "postgres", "--port", String(pgPort));
  const web = await f.alloc("--instance", "dev", "--service", "web", "--port", String(webPort));
  const listener = Bun.listen({ hostname: "127.0.0.1", port: webPort, socket: { data() {} } });
  try {
    // India: +05:30 all year, so the expected local time is computed without the OS.
    const io = f.io();
    const code = await inTimeZone("Asia/Kolkata", () => list({}, io));
    expect(code).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toEqual([
      "ID  APP    INSTANCE  SERVICE   PORT  CREATED              LISTENING",
      `1   myapp  dev       postgres  ${pgPort}  ${shiftedTime(pg.created_at, 330)}  no`,
      `2   myapp  dev       web       ${webPort}  ${shiftedTime(web.created_at, 330)}  yes`,
    ]);
  } finally {
    listener.stop(true);
  }
});

test("the CREATED column follows the local time zone", async () => {
  const pg = await f.alloc("--instance", "dev", "--service", "postgres");
  const io = f.io();
  await inTimeZone("UTC", () => list({}, io));
  expect(io.stdout[1]).toContain(pg.created_at.replace("T", " ").replace("Z", ""));
  const tokyo = f.io();
  await inTimeZone("Asia/Tokyo", () => list({}, tokyo));
  expect(tokyo.stdout[1]).toContain(shiftedTime(pg.created_at, 540));
});

test("lists the detected app only; --all and --app widen or change it", async () => {
  await f.alloc("--instance", "dev", "--service", "postgres");
  await f.alloc("--app", "other", "--instance", "dev", "--service", "db");
  const mine = await f.run(["list"]);
  expect(mine.code).toBe(0);
  expect(mine.out.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
    ["1", "myapp", "dev", "postgres"],
  ]);
  const all = await f.run(["list", "--all"]);
  expect(all.out.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(["myapp", "other"]);
  const other = await f.run(["list", "--app", "other"]);
  expect(other.out.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(["other"]);
});

test("--instance and --service filter within the app", async () => {
  await f.alloc("--instance", "dev", "--service", "postgres");
  await f.alloc("--instance", "dev", "--service", "web");
  await f.alloc("--instance", "ci", "--service", "web");
  const ci = await f.run(["list", "--instance", "ci"]);
  expect(ci.out.slice(1).map((l) => l.split(/\s+/).slice(2, 4))).toEqual([["ci", "web"]]);
  const web = await f.run(["list", "--service", "web"]);
  expect(web.out.slice(1).map((l) => l.split(/\s+/).slice(2, 4))).toEqual([
    ["dev", "web"],
    ["ci", "web"],
  ]);
});

test("--json prints exactly what the API returns for the same query", async () => {
  await f.alloc("--instance", "dev", "--service", "postgres");
  await f.alloc("--app", "other", "--instance", "dev", "--service", "db");
  const mine = await f.run(["list", "--json"]);
  expect(mine.code).toBe(0);
  expect(JSON.parse(mine.out.join("\n"))).toEqual(await f.api("/v1/allocations?app=myapp"));
  const all = await f.run(["list", "--all", "--json"]);
  const everything = await f.api<Allocation[]>("/v1/allocations");
  expect(everything).toHaveLength(2);
  expect(JSON.parse(all.out.join("\n"))).toEqual(everything);
});

test("nothing allocated: a sentence, not an empty table; --json prints []", async () => {
  await f.alloc("--app", "other", "--service", "db");
  expect(await f.run(["list"])).toEqual({
    code: 0,
    out: ["no allocations match app=myapp (portctl list --all shows every app)"],
    err: [],
  });
  expect((await f.run(["list", "--app", "nobody"])).out).toEqual([
    "no allocations match app=nobody",
  ]);
  expect((await f.run(["list", "--instance", "nope"])).out).toEqual([
    "no allocations match app=myapp instance=nope (portctl list --all shows every app)",
  ]);
  expect((await f.run(["list", "--json"])).out).toEqual(["[]"]);
});
