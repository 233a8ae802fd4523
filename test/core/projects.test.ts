// Compose project names as registry resources: one checkout per name (the schema's UNIQUE),
// the first checkout keeps Compose's own name, a later one a stable one of its own, an explicit
// name refused unless forced, freed by release and prune, each change an event.
import { beforeEach, describe, expect, test } from "bun:test";
import { Allocator } from "../../src/core/allocator.ts";
import type { ProjectRequest } from "../../src/core/model.ts";
import {
  claimProject,
  listProjects,
  normalizeProjectName,
  removeProjects,
} from "../../src/core/projects.ts";
import { prune } from "../../src/core/prune.ts";
import { Store } from "../../src/core/store.ts";
import { portError } from "../helpers/assert.ts";
import { fakeProbe, fixedClock } from "../helpers/fakes.ts";

const WORK = "/home/u/work/shop";
const REVIEW = "/home/u/review/shop";
const SHOP_TREE = "/home/u/trees/shop/fix-login";
const BLOG_TREE = "/home/u/trees/blog/fix-login";

let store: Store;
let present: Set<string>;
const exists = (p: string) => present.has(p);

beforeEach(() => {
  const clock = fixedClock();
  store = new Store(":memory:", { now: () => new Date(clock) });
  present = new Set([WORK, REVIEW, SHOP_TREE, BLOG_TREE]);
});

function req(checkout: string, more: Partial<ProjectRequest> = {}): ProjectRequest {
  return { name: "shop", app: "shop", instance: "main", checkout, ...more };
}

describe("claiming a name", () => {
  test("the first checkout keeps Compose's own name; a second clone gets a stable one of its own", () => {
    const a = claimProject(store, exists, req(WORK));
    expect(a).toMatchObject({ created: true, project: { name: "shop", checkout: WORK } });
    const b = claimProject(store, exists, req(REVIEW, { instance: "review" }));
    expect(b.project).toMatchObject({ name: "shop-review", natural: "shop", checkout: REVIEW });
    // Asked again, from either checkout: the same answers, nothing new recorded.
    expect(claimProject(store, exists, req(REVIEW, { instance: "review" }))).toEqual({
      project: b.project,
      created: false,
    });
    expect(claimProject(store, exists, req(WORK)).project).toEqual(a.project);
    expect(listProjects(store).map((p) => p.name)).toEqual(["shop", "shop-review"]);
  });

  test("a checkout naming its own other name (written into its .env) keeps it", () => {
    claimProject(store, exists, req(WORK));
    const b = claimProject(store, exists, req(REVIEW, { instance: "review" })).project;
    const again = claimProject(store, exists, req(REVIEW, { name: b.name, instance: "review" }));
    expect(again).toEqual({ project: b, created: false });
    expect(listProjects(store)).toHaveLength(2);
  });

  test("worktrees of two repositories in folders named after one branch: the app tells them apart", () => {
    const tree = (checkout: string, app: string) =>
      req(checkout, { name: "fix-login", app, instance: "fix-login" });
    expect(claimProject(store, exists, tree(SHOP_TREE, "shop")).project.name).toBe("fix-login");
    expect(claimProject(store, exists, tree(BLOG_TREE, "blog")).project.name).toBe(
      "fix-login-blog",
    );
  });

  test("a clone on the same branch without --instance still gets a name of its own", () => {
    claimProject(store, exists, req(WORK));
    const other = "/home/u/elsewhere/shop";
    present.add(other);
    expect(claimProject(store, exists, req(other)).project.name).toBe("shop-main");
    const third = "/home/u/third/shop";
    present.add(third);
    // instance and app are both taken words: the folder above it.
    expect(claimProject(store, exists, req(third)).project.name).toBe("shop-third");
  });

  test("an explicit name held by another checkout is refused, and taken with force", () => {
    claimProject(store, exists, req(WORK));
    const refused = portError(() =>
      claimProject(store, exists, req(REVIEW, { explicit: true, instance: "review" })),
    );
    expect(refused.code).toBe("project_taken");
    expect(refused.message).toBe(
      `Compose project shop belongs to the checkout at ${WORK}; this one is ${REVIEW}`,
    );
    expect(refused.details?.project).toMatchObject({ name: "shop", checkout: WORK });
    expect(listProjects(store).map((p) => [p.name, p.checkout])).toEqual([["shop", WORK]]);
    const forced = claimProject(store, exists, req(REVIEW, { explicit: true, force: true }), 77);
    expect(forced).toMatchObject({
      takenOverFrom: WORK,
      project: { name: "shop", checkout: REVIEW },
    });
    expect(store.events({ limit: 1 })[0]).toMatchObject({
      kind: "project_taken_over",
      project: "shop",
      pid: 77,
      port: 0,
      reason: `forced by the checkout at ${REVIEW}`,
    });
  });

  test("the name of a checkout that is gone is taken over, not replaced", () => {
    claimProject(store, exists, req(WORK));
    present.delete(WORK);
    const r = claimProject(store, exists, req(REVIEW));
    expect(r).toMatchObject({ takenOverFrom: WORK, project: { name: "shop", checkout: REVIEW } });
  });

  test("one name, one holder: the schema refuses a second row even past the code", () => {
    claimProject(store, exists, req(WORK));
    expect(() =>
      store.db.run(
        "INSERT INTO projects (name, natural, app, instance, checkout, created_at) VALUES ('shop', 'x', 'a', 'b', '/c', 'now')",
      ),
    ).toThrow(/UNIQUE constraint failed: projects.name/);
  });

  test("every change is an event in the history", () => {
    const a = claimProject(store, exists, req(WORK), 12);
    claimProject(store, exists, req(REVIEW, { instance: "review" }));
    store.write(() =>
      removeProjects(store, [a.project], "project_released", () => ({ reason: "released by id" })),
    );
    expect(store.events({}).map((e) => [e.kind, e.project, e.checkout])).toEqual([
      ["project_released", "shop", WORK],
      ["project_allocated", "shop-review", REVIEW],
      ["project_allocated", "shop", WORK],
    ]);
  });

  test("prune frees the names of checkouts that are gone, with their ports", () => {
    const allocator = new Allocator({
      store,
      probe: fakeProbe(),
      range: { lo: 3000, hi: 3099 },
      checkoutExists: exists,
    });
    allocator.allocate({ app: "shop", instance: "review", service: "web", checkout: REVIEW });
    claimProject(store, exists, req(WORK));
    claimProject(store, exists, req(REVIEW, { instance: "review" }));
    present.delete(REVIEW);
    const deps = { store, probe: fakeProbe(), checkoutExists: exists };
    const dry = prune(deps, { dry_run: true });
    expect(dry.projects.map((p) => p.project.name)).toEqual(["shop-review"]);
    expect(listProjects(store)).toHaveLength(2);
    const done = prune(deps, {}, 9);
    expect(done.projects.map((p) => p.project.name)).toEqual(["shop-review"]);
    expect(done.candidates.map((c) => c.allocation.service)).toEqual(["web"]);
    expect(listProjects(store).map((p) => p.name)).toEqual(["shop"]);
    expect(store.events({ limit: 1 })[0]).toMatchObject({
      kind: "project_pruned",
      project: "shop-review",
    });
  });
});

describe("Compose's normalisation of a folder name", () => {
  test.each([
    ["Shop", "shop"],
    ["my.app", "myapp"],
    ["_private-x", "private-x"],
    ["fix-login", "fix-login"],
    ["Ünïcode App", "ncodeapp"],
  ])("%p → %p", (folder, name) => expect(normalizeProjectName(folder)).toBe(name));
});
