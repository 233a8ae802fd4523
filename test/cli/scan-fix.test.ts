// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR:-default} is the subject
// `portctl scan --fix` end to end: --dry-run writes nothing, --fix rewrites in place, and then
// with Debian's real docker-compose two worktrees of the project publish different host ports
// through `portctl run`, while without port-server the file renders its old numbers.
import { afterEach, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";
import { makeRepo, type Repo } from "../helpers/git.ts";
import { makeImmutable } from "../helpers/immutable.ts";

// Each test starts several real processes (portctl, a daemon, a server): 5 s is tight under load.
setDefaultTimeout(30_000);

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
const STACK = [
  "services:",
  "  postgres:",
  "    image: postgres:17",
  "    ports:",
  '      - "5432:5432" # keep me',
  "  web:",
  "    image: nginx",
  "    ports:",
  "      - 127.0.0.1:8080:80",
  "",
].join("\n");

let f: CliFixture;
let repo: Repo;
beforeEach(async () => {
  f = await cliFixture("scratch");
  repo = makeRepo(f.home.root, "shop", "main");
  for (const dir of [repo.main, repo.worktree])
    writeFileSync(join(dir, "docker-compose.yml"), STACK);
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

const file = (dir: string) => readFileSync(join(dir, "docker-compose.yml"), "utf8");

test("--dry-run prints the diff and writes nothing; --fix rewrites only the two nodes", async () => {
  const dry = await f.run(["scan", "--dry-run"], { cwd: repo.main });
  expect(dry).toEqual({
    code: 0,
    out: [
      "docker-compose.yml:5 postgres → POSTGRES_PORT",
      '-      - "5432:5432" # keep me',
      '+      - "${POSTGRES_PORT:-5432}:5432" # keep me',
      "docker-compose.yml:9 web → WEB_PORT",
      "-      - 127.0.0.1:8080:80",
      '+      - "127.0.0.1:${WEB_PORT:-8080}:80"',
      "would rewrite 2 ports in 1 file; nothing written (--dry-run)",
    ],
    err: [],
  });
  expect(file(repo.main)).toBe(STACK);

  const fixed = await f.run(["scan", "--fix"], { cwd: repo.main });
  expect(fixed.code).toBe(0);
  expect(fixed.out.at(-1)).toBe("rewrote 2 ports in 1 file; the old numbers stay the defaults");
  expect(file(repo.main)).toBe(
    STACK.replace('"5432:5432"', '"${POSTGRES_PORT:-5432}:5432"').replace(
      "127.0.0.1:8080:80",
      '"127.0.0.1:${WEB_PORT:-8080}:80"',
    ),
  );
  expect((await f.run(["scan", "--fix"], { cwd: repo.main })).out).toEqual([
    "no literal host ports to rewrite",
  ]);
  expect(await f.allocations()).toEqual([]);
});

test.skipIf(!Bun.which("docker-compose"))(
  "after --fix, two worktrees publish different ports; without port-server the defaults stay",
  async () => {
    for (const dir of [repo.main, repo.worktree])
      expect((await f.run(["scan", "--fix"], { cwd: dir })).code).toBe(0);
    const main = await config(repo.main, true);
    const tree = await config(repo.worktree, true);
    expect(main.code).toBe(0);
    expect(tree.code).toBe(0);
    const rows = await f.allocations();
    expect(rows.map((r) => `${r.app}/${r.instance}/${r.service}`).sort()).toEqual([
      "shop/main/postgres",
      "shop/main/web",
      "shop/wt-feature/postgres",
      "shop/wt-feature/web",
    ]);
    const portsOf = (instance: string) =>
      rows.filter((r) => r.instance === instance).map((r) => r.port);
    expect(published(main.out).sort()).toEqual(portsOf("main").sort());
    expect(published(tree.out).sort()).toEqual(portsOf("wt-feature").sort());
    expect(portsOf("main").some((p) => portsOf("wt-feature").includes(p))).toBe(false);
    // No registry, no portctl: the file renders exactly the numbers it had before --fix.
    for (const dir of [repo.main, repo.worktree])
      expect(published((await config(dir, false)).out)).toEqual([5432, 8080]);
  },
  60_000,
);

test("a literal range becomes a block that run moves; without port-server Compose reads the old numbers", async () => {
  const ranged = STACK.replace('"5432:5432"', '"5432-5433:5432-5433"');
  writeFileSync(join(repo.main, "docker-compose.yml"), ranged);
  const run = await f.run(["scan", "--fix"], { cwd: repo.main });
  expect(run.code).toBe(0);
  expect(file(repo.main)).toBe(
    ranged
      .replace('"5432-5433:', '"${POSTGRES_PORT:-5432}-${POSTGRES_PORT_END:-5433}:')
      .replace("127.0.0.1:8080:80", '"127.0.0.1:${WEB_PORT:-8080}:80"'),
  );
  expect(published((await config(repo.main, false)).out)).toEqual([5432, 5433, 8080]);
  // Another project holds 5432: the block moves whole, both ends.
  await f.alloc("--app", "other", "--service", "pg", "--port", "5433");
  const moved = published((await config(repo.main, true)).out);
  expect(moved[1]).toBe((moved[0] as number) + 1);
  expect(moved[0]).not.toBe(5432);
});

test("a file that cannot be rewritten safely is left untouched, with why; exit 1", async () => {
  const shared = [
    "x-ports: &ports",
    "  ports:",
    '    - "7000:7000"',
    "services:",
    "  a:",
    "    image: busybox",
    "    <<: *ports",
    "  b:",
    "    image: busybox",
    "    <<: *ports",
    "",
  ].join("\n");
  writeFileSync(join(repo.main, "docker-compose.yml"), shared);
  const run = await f.run(["scan", "--fix"], { cwd: repo.main });
  expect(run.code).toBe(1);
  expect(run.err).toEqual([
    "warning: docker-compose.yml left untouched: line 3 is an anchor shared by a and b",
  ]);
  expect(run.out).toEqual(["no literal host ports to rewrite"]);
  expect(file(repo.main)).toBe(shared);
  const both = await f.run(["scan", "--fix", "--register"], { cwd: repo.main });
  expect(both.code).toBe(1);
  expect(both.err[0]).toContain("--fix and --register are separate steps");
});

// --- internal ---

async function config(cwd: string, through: boolean) {
  const argv = through
    ? [process.execPath, MAIN, "run", "--", "docker-compose", "config"]
    : ["docker-compose", "config"];
  const proc = Bun.spawn(argv, {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...(through ? f.env : { HOME: f.home.root }),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(proc.stdout).text();
  const err = await new Response(proc.stderr).text();
  return { code: await proc.exited, out, err };
}

/** Host ports in `docker-compose config` output: `published: N`, or `- IP:N:PORT/tcp` with an IP. */
function published(text: string): number[] {
  return [...text.matchAll(/published: (\d+)|- [\d.]+:(\d+):\d+/g)].map((m) =>
    Number(m[1] ?? m[2]),
  );
}

test("a hostile repository's names reach the terminal escaped", async () => {
  const evil = 'services:\n  "db\\e[31m\\u202e":\n    image: x\n    ports:\n      - "5432:5432"\n';
  writeFileSync(join(repo.main, "docker-compose.yml"), evil);
  const run = await f.run(["scan", "--fix", "--dry-run"], { cwd: repo.main });
  expect(run.code).toBe(0);
  const printed = [...run.out, ...run.err].join("\n");
  expect(printed).not.toContain("\u001b");
  expect(printed).not.toContain("\u202e");
  expect(printed).toContain("would rewrite 1 port in 1 file");
  expect(file(repo.main)).toBe(evil);
});

test("--fix where the file cannot be replaced: one line in words, the file and folder as they were", async () => {
  const path = join(repo.main, "docker-compose.yml");
  const undo = makeImmutable(path);
  if (!undo) {
    console.log("skip: chattr +i is not available here (an immutable file is the failing write)");
    return;
  }
  try {
    const before = readdirSync(repo.main).sort();
    const fixed = await f.run(["scan", "--fix"], { cwd: repo.main });
    expect(fixed.code).toBe(1);
    expect(fixed.err).toEqual([`error: cannot write ${realpathSync(path)}: permission denied`]);
    expect(file(repo.main)).toBe(STACK);
    expect(readdirSync(repo.main).sort()).toEqual(before);
  } finally {
    undo();
  }
});
