// Default app and instance names from real git checkouts: a main checkout, a linked worktree,
// a detached HEAD, subfolders, and no git at all.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectApp, detectOwner, findCheckout } from "../../src/cli/detect.ts";
import { git, makeRepo, type Repo } from "../helpers/git.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "portctl-detect-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Both names in one walk; `detectApp` alone (list, completion) must name the same app. */
const detect = (cwd: string) => {
  const owner = detectOwner(cwd);
  expect(detectApp(cwd)).toBe(owner.app);
  return owner;
};

describe("in a git repository with a linked worktree", () => {
  let repo: Repo;
  beforeEach(() => {
    repo = makeRepo(dir, "shop", "main");
  });

  test("the main checkout: app is the repo folder, instance is the branch", () => {
    expect(detect(repo.main)).toEqual({ app: "shop", instance: "main" });
    expect(findCheckout(repo.main)).toEqual({ top: repo.main, repo: "shop", branch: "main" });
  });

  test("the linked worktree: app is still the main repo's name, instance is the worktree folder", () => {
    expect(detect(repo.worktree)).toEqual({ app: "shop", instance: "wt-feature" });
    expect(findCheckout(repo.worktree)).toEqual({
      top: repo.worktree,
      repo: "shop",
      worktree: "wt-feature",
      branch: "feature",
    });
  });

  test("a subfolder of either checkout detects the same names", () => {
    const deepMain = join(repo.main, "services", "api");
    const deepTree = join(repo.worktree, "web");
    mkdirSync(deepMain, { recursive: true });
    mkdirSync(deepTree);
    expect(detect(deepMain)).toEqual({ app: "shop", instance: "main" });
    expect(detect(deepTree)).toEqual({ app: "shop", instance: "wt-feature" });
    expect(findCheckout(deepMain)?.top).toBe(repo.main);
    expect(findCheckout(deepTree)?.top).toBe(repo.worktree);
  });

  test("a name given wins; only the other is detected", () => {
    expect(detectOwner(repo.worktree, { app: "blog" })).toEqual({
      app: "blog",
      instance: "wt-feature",
    });
    expect(detectOwner(repo.worktree, { instance: "ci" })).toEqual({ app: "shop", instance: "ci" });
    const both = { app: "blog", instance: "ci" };
    expect(detectOwner(join(dir, "no", "such", "folder"), both)).toEqual(both);
  });

  test("a branch switch in the main checkout changes the instance", () => {
    git(repo.main, "switch", "-q", "-c", "release/1.2");
    // A "/" would make app/instance/service ambiguous: it becomes "-".
    expect(detect(repo.main)).toEqual({ app: "shop", instance: "release-1.2" });
  });

  test("a detached HEAD falls back to 'default'", () => {
    git(repo.main, "checkout", "-q", "--detach");
    expect(detect(repo.main)).toEqual({ app: "shop", instance: "default" });
    expect(findCheckout(repo.main)).toEqual({ top: repo.main, repo: "shop" });
  });

  test("a detached HEAD in the worktree keeps the worktree's name", () => {
    git(repo.worktree, "checkout", "-q", "--detach");
    expect(detect(repo.worktree)).toEqual({ app: "shop", instance: "wt-feature" });
  });
});

test("a repository on master reports master", () => {
  const repo = makeRepo(dir, "legacy", "master");
  expect(detect(repo.main)).toEqual({ app: "legacy", instance: "master" });
  expect(detect(repo.worktree)).toEqual({ app: "legacy", instance: "wt-feature" });
});

test("a fresh repository without commits already has its branch", () => {
  const main = join(dir, "fresh");
  mkdirSync(main);
  git(main, "init", "-q", "-b", "main");
  expect(detect(main)).toEqual({ app: "fresh", instance: "main" });
});

test("no git: app is the folder name, instance is 'default'", () => {
  const plain = join(dir, "plain-app", "src");
  mkdirSync(plain, { recursive: true });
  expect(detect(join(dir, "plain-app"))).toEqual({ app: "plain-app", instance: "default" });
  // A subfolder without git is its own app: there is no repository to name it after.
  expect(detect(plain)).toEqual({ app: "src", instance: "default" });
  expect(findCheckout(plain)).toBeNull();
});

test("a trailing slash or relative segments do not change the names", () => {
  const repo = makeRepo(dir, "shop", "main");
  expect(detect(`${repo.main}/`)).toEqual({ app: "shop", instance: "main" });
  expect(detect(join(repo.worktree, "..", "shop"))).toEqual({ app: "shop", instance: "main" });
});
