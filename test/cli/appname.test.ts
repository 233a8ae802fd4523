// A folder that gives no app name (`/`), or a name that cannot be one (over 128 characters, an
// invisible character), or a branch that cannot be an instance: every command that detects them
// refuses with one line naming where the name came from, sends nothing, and shows no other app's
// ports (an empty app filter meant "every app": list, export and history showed everything).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";

let f: CliFixture;
beforeEach(async () => {
  f = await cliFixture("myapp");
  await f.alloc("--instance", "dev", "--service", "web");
  await f.alloc("--app", "other", "--instance", "dev", "--service", "web");
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

const COMMANDS = [
  ["list"],
  ["list", "--json"],
  ["export"],
  ["history"],
  ["env", "--instance", "dev"],
  ["allocate", "--service", "db"],
  ["release"],
];

describe("run from /", () => {
  test.each(COMMANDS)("%s …: one line, exit 1, nothing shown, nothing changed", async (...argv) => {
    const before = await f.allocations();
    const run = await f.run(argv, { cwd: "/" });
    const line = "/ gives no app name: pass --app NAME";
    if (argv.includes("--json")) {
      expect(run.code).toBe(1);
      expect(JSON.parse(run.out.join("\n"))).toEqual({ error: line, code: "bad_request" });
    } else expect(run).toEqual({ code: 1, out: [], err: [`error: ${line}`] });
    expect(await f.allocations()).toEqual(before);
  });

  test("with --app, or --all, it works from / as anywhere", async () => {
    const list = await f.run(["list", "--app", "other"], { cwd: "/" });
    expect(list.code).toBe(0);
    expect(list.out.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(["other"]);
    const all = await f.run(["list", "--all"], { cwd: "/" });
    expect(all.out).toHaveLength(3);
    const env = await f.run(["env", "--app", "other", "--instance", "dev"], { cwd: "/" });
    expect(env.code).toBe(0);
    expect(env.out).toHaveLength(1);
    expect(env.out[0]).toStartWith("WEB_PORT=");
  });
});

describe("a folder or branch name that cannot be a name", () => {
  test("a folder name over 128 characters names its origin", async () => {
    const dir = join(f.home.root, "a".repeat(129));
    mkdirSync(dir);
    const run = await f.run(["list"], { cwd: dir });
    expect(run).toEqual({
      code: 1,
      out: [],
      err: [
        `error: this folder's name (${"a".repeat(40)}…) cannot be an app name: it must be at most 128 characters; pass --app NAME`,
      ],
    });
  });

  test("an invisible character in the folder's name: refused before it is sent", async () => {
    const dir = join(f.home.root, "shop\u200b");
    mkdirSync(dir);
    const run = await f.run(["allocate", "--service", "web"], { cwd: dir });
    expect(run).toEqual({
      code: 1,
      out: [],
      err: [
        "error: this folder's name (shop\\u200b) cannot be an app name: it must not contain U+200B (an invisible or format character); pass --app NAME",
      ],
    });
    expect((await f.allocations()).map((a) => a.app)).toEqual(["myapp", "other"]);
  });

  test("a branch over 128 characters cannot be the instance: pass --instance", async () => {
    const repo = join(f.home.root, "shop");
    mkdirSync(join(repo, ".git"), { recursive: true });
    writeFileSync(join(repo, ".git/HEAD"), `ref: refs/heads/feature/${"b".repeat(130)}\n`);
    const run = await f.run(["allocate", "--service", "web"], { cwd: repo });
    expect(run.code).toBe(1);
    expect(run.err).toEqual([
      `error: the branch (feature-${"b".repeat(32)}…) cannot be an instance name: it must be at most 128 characters; pass --instance NAME`,
    ]);
    const given = await f.run(["allocate", "--service", "web", "--instance", "x", "-q"], {
      cwd: repo,
    });
    expect(given.code).toBe(0);
  });
});

describe("history defaults to the current app, like list", () => {
  test("only this app's events; --all and --port cover every app", async () => {
    const apps = async (argv: string[]) => {
      const run = await f.run([...argv, "--json"]);
      expect(run.code).toBe(0);
      return [...new Set((JSON.parse(run.out.join("\n")) as { app: string }[]).map((e) => e.app))];
    };
    expect(await apps(["history"])).toEqual(["myapp"]);
    expect((await apps(["history", "--all"])).sort()).toEqual(["myapp", "other"]);
    expect(await apps(["history", "--app", "other"])).toEqual(["other"]);
    const [other] = (await f.allocations()).filter((a) => a.app === "other");
    expect(await apps(["history", "--port", String(other?.port)])).toEqual(["other"]);
  });
});
