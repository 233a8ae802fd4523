// Two clones of one repository on the same branch give one app/instance (shop/main). The first
// holds its ports; `env` and `url` in the second must not print them as its own (a script would
// then talk to the other clone's database): refused as `run` refuses, unless --instance names
// what the user asks for. Once the second clone has run with --instance of its own, its
// commands find that instance by its checkout. A gone checkout's rows are not in the way.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { git } from "../helpers/git.ts";

let f: CliFixture;
let work: string;
let review: string;

beforeEach(async () => {
  f = await cliFixture("x");
  work = clone("work");
  review = clone("review");
});
afterEach(() => f.close());

function clone(parent: string): string {
  const dir = join(f.home.root, parent, "shop");
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  return dir;
}

const alloc = (cwd: string, ...argv: string[]) =>
  f.run(["allocate", "-q", "--service", "web", "--http", ...argv], { cwd });

test("env and url in the second clone refuse the first one's shop/main; --instance asks for it", async () => {
  expect((await alloc(work)).code).toBe(0);
  const line = `error: shop/main belongs to the checkout at ${work}; this one is ${review} — pass --instance to give it its own ports`;
  for (const argv of [["env"], ["env", "--format", "export"], ["url"]]) {
    const r = await f.run(argv, { cwd: review });
    expect({ argv, ...r }).toEqual({ argv, code: 1, out: [], err: [line] });
  }
  // Named on purpose: what the user asked for.
  const named = await f.run(["env", "--instance", "main"], { cwd: review });
  expect(named.code).toBe(0);
  expect(named.out[0]).toMatch(/^WEB_PORT=\d+$/);
  // In the first clone, its own.
  expect((await f.run(["env"], { cwd: work })).code).toBe(0);
  // The first clone gone: nothing is in the way any more (run would take the rows over).
  rmSync(work, { recursive: true, force: true });
  expect((await f.run(["env"], { cwd: review })).code).toBe(0);
});

test("after one --instance review in the second clone, env, url and run find review by its checkout", async () => {
  const first = Number((await alloc(work)).out[0]);
  const second = Number((await alloc(review, "--instance", "review")).out[0]);
  expect(second).not.toBe(first);
  const port = async (cwd: string) =>
    (await f.run(["env"], { cwd })).out.filter((l) => l.startsWith("WEB_PORT="));
  expect(await port(review)).toEqual([`WEB_PORT=${second}`]);
  expect(await port(work)).toEqual([`WEB_PORT=${first}`]);
  const url = await f.run(["url"], { cwd: review });
  expect(url.code).toBe(0);
  expect(url.out[0]).toContain("web.review.shop.localhost");
  // run: the same port again, under review (true ends at once; the start line says where).
  const run = await f.run(["run", "--", "true"], {
    cwd: review,
    env: { ...f.env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  expect(run.code).toBe(0);
  expect(run.err.join("\n")).toContain(`shop/review/web`);
  expect(run.err.join("\n")).toContain(String(second));
  expect((await f.allocations()).map((a) => `${a.instance}:${a.port}`).sort()).toEqual(
    [`main:${first}`, `review:${second}`].sort(),
  );
});
