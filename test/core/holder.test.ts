// Whether a listener belongs to a checkout (scan --register's rule): a container by its Compose
// folder, a process by its working folder; an engine's proxy with no container, an unseen
// process, or a reply of the wrong shape, never.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heldByCheckout, processCwd, withContainer } from "../../src/core/holder.ts";
import type { SystemUse } from "../../src/core/model.ts";
import { fakeEngine } from "../helpers/fakes.ts";

const CONTAINER = { id: "c", name: "shop-db-1", project: "shop" };
const inUse = (over: Partial<SystemUse>): SystemUse => ({ in_use: true, ...over });

describe("heldByCheckout", () => {
  test("a container: its Compose folder is the checkout or inside it; a look-alike prefix is not", () => {
    const at = (dir: string) =>
      inUse({ process: "docker-proxy", container: { ...CONTAINER, working_dir: dir } });
    expect(heldByCheckout(at("/home/me/work/shop"), "/home/me/work/shop")).toBe(true);
    expect(heldByCheckout(at("/home/me/work/shop/deploy"), "/home/me/work/shop")).toBe(true);
    expect(heldByCheckout(at("/home/me/work/shop"), "/home/me/work/shop/")).toBe(true);
    expect(heldByCheckout(at("/home/me/work/shop"), "/home/me/work/sho")).toBe(false);
    expect(heldByCheckout(at("/home/me/work/shop-review"), "/home/me/work/shop")).toBe(false);
    expect(heldByCheckout(at("/home/me/review/shop"), "/home/me/work/shop")).toBe(false);
    // No folder label (a container not from Compose): nobody's.
    expect(heldByCheckout(inUse({ container: CONTAINER }), "/")).toBe(false);
  });

  test("a container's folder reached through a link counts as inside", () => {
    const root = mkdtempSync(join(tmpdir(), "pst-holder-"));
    try {
      mkdirSync(join(root, "real", "shop"), { recursive: true });
      symlinkSync(join(root, "real"), join(root, "link"));
      const sys = inUse({ container: { ...CONTAINER, working_dir: join(root, "link", "shop") } });
      expect(heldByCheckout(sys, join(root, "real", "shop"))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a process: by its working folder; an engine's proxy without a container, or no pid, never", () => {
    const cwdOf = (pid: number) => (pid === 7 ? "/home/me/work/shop/web" : undefined);
    expect(heldByCheckout(inUse({ pid: 7, process: "node" }), "/home/me/work/shop", cwdOf)).toBe(
      true,
    );
    expect(heldByCheckout(inUse({ pid: 7, process: "node" }), "/home/me/blog", cwdOf)).toBe(false);
    expect(heldByCheckout(inUse({ pid: 8, process: "node" }), "/", cwdOf)).toBe(false);
    expect(heldByCheckout(inUse({ process: "node" }), "/", cwdOf)).toBe(false);
    // docker-proxy works in /: without the engine's answer it is nobody's stack.
    expect(
      heldByCheckout(inUse({ pid: 7, process: "docker-proxy" }), "/home/me/work/shop", cwdOf),
    ).toBe(false);
  });

  test("a reply of the wrong shape is nobody's (no throw)", () => {
    const odd = { in_use: true, pid: "7", container: { name: 5, working_dir: { x: 1 } } };
    expect(heldByCheckout(odd as unknown as SystemUse, "/")).toBe(false);
  });

  test("processCwd: this process's own folder; a pid that does not exist: undefined", () => {
    if (process.platform === "linux") expect(processCwd(process.pid)).toBe(process.cwd());
    expect(processCwd(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe("withContainer", () => {
  test("asks only for a listening port an engine's proxy holds", async () => {
    const engine = fakeEngine([[5432, { ...CONTAINER }]]);
    expect(await withContainer({ in_use: false }, 5432, engine)).toEqual({ in_use: false });
    expect(await withContainer(inUse({ process: "postgres" }), 5432, engine)).toEqual(
      inUse({ process: "postgres" }),
    );
    expect(engine.asked).toEqual([]);
    expect(await withContainer(inUse({ process: "docker-proxy" }), 5432, engine)).toEqual(
      inUse({ process: "docker-proxy", container: CONTAINER }),
    );
    expect(await withContainer(inUse({ process: "docker-proxy" }), 5432, undefined)).toEqual(
      inUse({ process: "docker-proxy" }),
    );
  });
});
