// `-C DIR` (as git's) and the prunes limited to one checkout or app: the command acts as if run
// in DIR; release and prune still work once DIR is deleted (a WorktreeRemove hook runs after the
// folder may be gone), and then touch only that checkout's allocations, never the main one's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { makeRepo, type Repo } from "../helpers/git.ts";

let f: CliFixture;
let repo: Repo;
beforeAll(async () => {
  f = await cliFixture();
});
afterAll(() => f.close());

describe("-C DIR", () => {
  test("allocate in DIR: its app, instance and checkout, from anywhere", async () => {
    repo = makeRepo(join(f.home.root, "repos"));
    const r = await f.run(["-C", repo.worktree, "allocate", "--json", "--service", "web"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.join("\n"))).toMatchObject({
      app: "shop",
      instance: "wt-feature",
      service: "web",
      checkout: repo.worktree,
    });
    // Relative to the one before, as git's; --directory=… spelled out.
    const again = await f.run([
      "-C",
      join(f.home.root, "repos"),
      "--directory=shop",
      "allocate",
      "--json",
      "--service",
      "web",
    ]);
    expect(JSON.parse(again.out.join("\n"))).toMatchObject({
      instance: "main",
      checkout: repo.main,
    });
  });

  test("release -C of a deleted worktree frees its ports alone; the main checkout's stay", async () => {
    await f.run(["-C", repo.worktree, "allocate", "--service", "db"]);
    rmSync(repo.worktree, { recursive: true, force: true });
    const r = await f.run(["-C", repo.worktree, "release"]);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([`released 2 allocations (checkout=${repo.worktree})`]);
    const left = await f.allocations();
    expect(left.map((a) => `${a.instance}/${a.service}`)).toEqual(["main/web"]);
    const none = await f.run(["-C", repo.worktree, "release"]);
    expect(none.code).toBe(1);
    expect(none.err).toEqual([`error: no allocations match checkout=${repo.worktree}`]);
  });

  test("other commands refuse a missing folder or a file with one line, exit 1", async () => {
    const gone = join(f.home.root, "nowhere");
    expect(await f.run(["-C", gone, "list"])).toEqual({
      code: 1,
      out: [],
      err: [`error: -C ${gone}: no such folder`],
    });
    const file = join(f.home.root, "a-file");
    writeFileSync(file, "");
    expect((await f.run(["-C", file, "allocate", "--service", "x"])).err).toEqual([
      `error: -C ${file}: not a folder`,
    ]);
    const bare = await f.run(["-C"]);
    expect(bare.code).toBe(1);
    expect(bare.err[0]).toBe("error: -C needs a folder");
    expect((await f.allocations()).map((a) => a.service)).toEqual(["web"]);
  });
});

describe("prune --checkout / --app", () => {
  test("only the named checkout (relative to -C) or app is pruned", async () => {
    const parent = join(f.home.root, "gone");
    const [a, b] = [join(parent, "a"), join(parent, "b")];
    for (const dir of [a, b]) mkdirSync(dir, { recursive: true });
    await f.run(["-C", a, "allocate", "--app", "one", "--instance", "a", "--service", "web"]);
    await f.run(["-C", b, "allocate", "--app", "one", "--instance", "b", "--service", "web"]);
    await f.run(["-C", b, "allocate", "--app", "two", "--instance", "b", "--service", "web"]);
    rmSync(parent, { recursive: true });

    const dry = await f.run(["-C", parent, "prune", "--checkout", "a"]);
    expect(dry.out.at(-1)).toBe(
      "1 allocation would be released; run portctl prune --yes --checkout a to release it",
    );
    const one = await f.run(["-C", parent, "prune", "--yes", "--checkout", "a"]);
    expect(one.out).toHaveLength(1);
    expect(one.out[0]).toStartWith("released port");
    expect(one.out[0]).toContain("of one/a/web");

    const byApp = await f.run(["prune", "--yes", "--app", "two"]);
    expect(byApp.out).toHaveLength(1);
    expect(byApp.out[0]).toContain("of two/b/web");
    const left = (await f.allocations()).map((x) => `${x.app}/${x.instance}`).sort();
    expect(left).toEqual(["one/b", "shop/main"]);
  });

  test("a --checkout the API refuses (a control character) is one line, exit 1", async () => {
    const before = await f.allocations();
    const r = await f.run(["prune", "--yes", "--checkout", "a\tb"]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain("checkout");
    expect(await f.allocations()).toEqual(before);
  });
});
