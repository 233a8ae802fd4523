// `portctl skill install` from a subfolder of a repository writes to the repository's top folder,
// as scan does (it wrote into the subfolder, where no agent started at the top would look, and
// doctor then said it was not installed); an explicit DIR is honoured.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skillCheck } from "../../src/cli/doctor/checks.ts";
import { runWith } from "../helpers/cli.ts";

let tmp = "";
let repo = "";
let sub = "";
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "port-server-skill-root-"));
  repo = join(tmp, "shop");
  sub = join(repo, "apps", "web");
  mkdirSync(join(repo, ".git"), { recursive: true });
  mkdirSync(sub, { recursive: true });
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const skillIn = (dir: string) => join(dir, ".claude/skills/port-manager/SKILL.md");
const install = (cwd: string, argv: string[] = []) =>
  runWith(["skill", "install", ...argv], { env: { HOME: tmp }, cwd, home: tmp });

test("from a subfolder: installed at the repository's top folder, and it says so", async () => {
  const run = await install(sub);
  expect(run.code).toBe(0);
  expect(run.err).toEqual([`installing in ${repo} (the repository's top folder)`]);
  expect(run.out.map((l) => l.replace(/: seen by .*$/, ""))).toEqual([
    `installed port-manager skill in ${join(repo, ".agents/skills/port-manager")}`,
    `installed port-manager skill in ${join(repo, ".claude/skills/port-manager")}`,
  ]);
  expect(existsSync(join(repo, ".agents/skills/port-manager/SKILL.md"))).toBe(true);
  expect(existsSync(skillIn(repo))).toBe(true);
  expect(existsSync(join(sub, ".claude"))).toBe(false);
  expect(existsSync(join(sub, ".agents"))).toBe(false);
  expect(skillCheck(sub, tmp).status).toBe("ok");
});

test("at the top, or outside a repository: the current folder, nothing said", async () => {
  expect((await install(repo)).err).toEqual([]);
  expect(existsSync(skillIn(repo))).toBe(true);
  const plain = join(tmp, "plain");
  mkdirSync(plain);
  expect(await install(plain)).toMatchObject({ code: 0, err: [] });
  expect(existsSync(skillIn(plain))).toBe(true);
});

test("an explicit DIR is where it goes; a missing one is one line, exit 1", async () => {
  expect(await install(repo, ["apps/web"])).toMatchObject({ code: 0, err: [] });
  expect(existsSync(skillIn(sub))).toBe(true);
  expect(existsSync(join(repo, ".claude"))).toBe(false);
  expect(await install(repo, ["nope"])).toEqual({
    code: 1,
    out: [],
    err: [`error: no such folder: ${join(repo, "nope")}`],
  });
});
