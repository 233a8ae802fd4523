// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// `portctl scan` on whole trees: which folder it scans and registers for (the repository's, not
// the current folder's), what it says about Compose files it does not read, links, and the
// lines a conflict prints. Against a real daemon in a temp home.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";
import { makeRepo } from "../helpers/git.ts";

let f: CliFixture;
beforeEach(async () => {
  f = await cliFixture("work");
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

function put(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
const service = (name: string, port: number) =>
  `services:\n  ${name}:\n    image: x\n    ports:\n      - "${port}:${port}"\n`;

describe("which folder, which app", () => {
  test("from a subfolder: the repository's top folder, said on stderr", async () => {
    const repo = makeRepo(f.cwd, "shop", "main");
    put(join(repo.main, "compose.yaml"), service("db", 15432));
    const sub = join(repo.main, "services", "api");
    mkdirSync(sub, { recursive: true });
    expect(await f.run(["scan"], { cwd: sub })).toEqual({
      code: 0,
      out: ["PORT   SERVICE  PROTOCOL  SOURCE", "15432  db       tcp       compose.yaml:5"],
      err: [`scanning ${repo.main} (the repository's top folder)`],
    });
    // an explicit folder is scanned as given
    const here = await f.run(["scan", "."], { cwd: sub });
    expect(here.out).toEqual([`no host-bound ports found in ${sub}`]);
  });

  test("scan DIR --register uses DIR's repository and branch, not the current folder's", async () => {
    const repo = makeRepo(f.cwd, "shop", "main");
    put(join(repo.worktree, "compose.yaml"), service("db", 15433));
    const run = await f.run(["scan", "--register", repo.worktree]);
    expect(run).toEqual({
      code: 0,
      out: ["registered port 15433 (id=1) for shop/wt-feature/db  [compose.yaml:5]"],
      err: [],
    });
    expect((await f.allocations()).map((a) => [a.app, a.instance, a.service, a.port])).toEqual([
      ["shop", "wt-feature", "db", 15433],
    ]);
  });
});

describe("conflicts name the real holder", () => {
  test("a service that holds another port: that allocation and its port, no --reuse", async () => {
    const held = await f.alloc("--service", "postgres", "--port", "15532");
    put(join(f.cwd, "compose.yaml"), service("postgres", 16543));
    const run = await f.run(["scan", "--register"]);
    expect(run).toEqual({
      code: 1,
      out: [
        `conflict: port 16543 for work/default/postgres  [compose.yaml:5]: work/default/postgres (id=${held.id}) already has port 15532; release it to move the service to this port`,
      ],
      err: [],
    });
    expect(run.out.join("\n")).not.toContain("--reuse");
    expect(await f.allocations()).toEqual([held]);
  });

  test("a port another service holds: held by that one", async () => {
    const held = await f.alloc("--app", "other", "--service", "cache", "--port", "16379");
    put(join(f.cwd, "compose.yaml"), service("redis", 16379));
    const run = await f.run(["scan", "--register"]);
    expect(run.out).toEqual([
      `conflict: port 16379 for work/default/redis  [compose.yaml:5]: held by other/default/cache (id=${held.id})`,
    ]);
  });
});

describe("Compose files the walk finds", () => {
  test("too deep or in a skipped folder: one line at the end naming them; --depth reads deeper", async () => {
    put(join(f.cwd, "a/b/c/d/e/compose.yaml"), service("deep", 17001));
    put(join(f.cwd, "build/compose.yaml"), service("built", 17002));
    put(join(f.cwd, "node_modules/pkg/compose.yaml"), service("dep", 17003));
    put(join(f.cwd, "compose.yaml"), service("top", 17000));
    const run = await f.run(["scan"]);
    expect(run.out).toEqual([
      "PORT   SERVICE  PROTOCOL  SOURCE",
      "17000  top      tcp       compose.yaml:5",
    ]);
    expect(run.err).toEqual([
      "2 compose files not scanned: a/b/c/d/e/compose.yaml, build/compose.yaml; pass --depth 5; scan a skipped folder (build/, dist/, vendor/, …) by naming it",
    ]);
    const deeper = await f.run(["scan", "--depth", "5"]);
    expect(deeper.out).toContain("17001  deep     tcp       a/b/c/d/e/compose.yaml:5");
    expect(deeper.err).toEqual([
      "1 compose file not scanned: build/compose.yaml; scan a skipped folder (build/, dist/, vendor/, …) by naming it",
    ]);
  });

  test("--json carries the Compose files not read, with why", async () => {
    put(join(f.cwd, "a/b/c/d/e/compose.yaml"), service("deep", 17001));
    put(join(f.cwd, "build/compose.yaml"), service("built", 17002));
    const run = await f.run(["scan", "--json"]);
    expect(JSON.parse(run.out.join("\n")).not_scanned).toEqual([
      { path: "a/b/c/d/e/compose.yaml", reason: "depth" },
      { path: "build/compose.yaml", reason: "folder" },
    ]);
  });

  test("--depth that is not a small number is refused by the parser", async () => {
    const run = await f.run(["scan", "--depth", "x"]);
    expect(run.code).toBe(1);
    expect(run.err[0]).toContain("must be an integer between 0 and 64");
  });

  test("a link to a Compose file inside the tree is read; one leading outside is named", async () => {
    put(join(f.cwd, "deploy/stack.yml"), service("linked", 17100));
    symlinkSync("deploy/stack.yml", join(f.cwd, "compose.yaml"));
    const outside = join(f.home.root, "elsewhere.yml");
    put(outside, service("stranger", 17101));
    mkdirSync(join(f.cwd, "sub"));
    symlinkSync(outside, join(f.cwd, "sub", "docker-compose.yml"));
    // a link to a folder outside: its Compose files are named too; one inside adds nothing
    put(join(f.home.root, "shared/api/compose.yaml"), service("shared", 17102));
    symlinkSync(join(f.home.root, "shared"), join(f.cwd, "shared"));
    symlinkSync(join(f.cwd, "deploy"), join(f.cwd, "deploy-again"));
    const run = await f.run(["scan"]);
    expect(run.out).toEqual([
      "PORT   SERVICE  PROTOCOL  SOURCE",
      "17100  linked   tcp       compose.yaml:5",
    ]);
    expect(run.err).toEqual([
      "2 compose files not scanned: shared/api/compose.yaml, sub/docker-compose.yml; a link out of the scanned folder is not followed",
    ]);
  });
});

test("a secret in the environment never reaches a warning", async () => {
  put(join(f.cwd, "compose.yaml"), 'services:\n  web:\n    ports: ["${GITHUB_TOKEN}:80"]\n');
  const run = await f.run(["scan"], { env: { ...f.env, GITHUB_TOKEN: "ghp_s3cret" } });
  expect(run.err).toEqual([
    'warning: compose.yaml:3: web: "${GITHUB_TOKEN}:80": the value of GITHUB_TOKEN is not a port or port range',
  ]);
  expect(JSON.stringify(run)).not.toContain("s3cret");
});
