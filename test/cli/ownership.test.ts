// Ownership through portctl, against a real daemon: two clones of one repository on the same
// branch, a deleted worktree pruned, leases, history, export → import, and check's last event.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation, PortEvent } from "../../src/core/model.ts";
import { type CliFixture, cliFixture, freePort } from "../helpers/cli.ts";
import { git, makeRepo } from "../helpers/git.ts";
import { killHard } from "../helpers/processes.ts";

let f: CliFixture;
let work: string;
let oss: string;
beforeAll(async () => {
  f = await cliFixture();
  // Two clones of one repository, both on main: both are api/main.
  const origin = makeRepo(join(f.home.root, "origin"), "api").main;
  work = join(f.home.root, "work");
  oss = join(f.home.root, "oss");
  mkdirSync(work);
  mkdirSync(oss);
  git(work, "clone", "-q", origin, "api");
  git(oss, "clone", "-q", origin, "api");
  work = realpathSync(join(work, "api"));
  oss = realpathSync(join(oss, "api"));
});
afterAll(() => f.close());

const inDir = (cwd: string, ...argv: string[]) => f.run(argv, { cwd });

describe("two clones on the same branch", () => {
  test("never share a port without --instance; a gone clone's port is taken over", async () => {
    const a = await inDir(work, "allocate", "-q", "--reuse", "--service", "web");
    expect(a).toMatchObject({ code: 0, err: [] });
    const port = Number(a.out[0]);
    const [row] = await f.api<Allocation[]>(`/v1/allocations?port=${port}`);
    expect(row).toMatchObject({ app: "api", instance: "main", checkout: work });

    const b = await inDir(oss, "allocate", "-q", "--reuse", "--service", "web");
    expect(b.code).toBe(1);
    expect(b.out).toEqual([]);
    expect(b.err).toEqual([
      `error: api/main/web belongs to the checkout at ${work}; this one is ${oss} — pass --instance to give it its own ports`,
    ]);
    // Without --reuse the same: "pass --reuse" would only be refused next.
    const plain = await inDir(oss, "allocate", "--service", "web");
    expect(plain).toMatchObject({ code: 1, err: [b.err[0]] });
    const own = await inDir(
      oss,
      "allocate",
      "-q",
      "--reuse",
      "--instance",
      "oss",
      "--service",
      "web",
    );
    expect(Number(own.out[0])).not.toBe(port);

    rmSync(work, { recursive: true, force: true });
    const c = await inDir(oss, "allocate", "--reuse", "--service", "web");
    expect(c.code).toBe(0);
    expect(c.out).toEqual([
      `reusing port ${port} (id=${row?.id}) for api/main/web; taken over from the checkout at ${work}, which no longer exists`,
    ]);
    const story = (await f.api<PortEvent[]>(`/v1/events?port=${port}`)).map((e) => e.kind);
    expect(story).toEqual(["taken_over", "allocated"]);
  });
});

describe("prune", () => {
  test("lists a deleted worktree's ports as STALE, frees them only with --yes", async () => {
    const repo = makeRepo(join(f.home.root, "p"), "shop");
    const wt = realpathSync(repo.worktree);
    const web = await f.run(["allocate", "-q", "--service", "web"], { cwd: wt });
    const port = Number(web.out[0]);
    const kept = await f.run(["allocate", "-q", "--service", "web"], { cwd: repo.main });
    git(repo.main, "worktree", "remove", "--force", wt);

    const list = await f.run(["list", "--app", "shop"]);
    expect(list.out.find((l) => l.includes(String(port)))).toMatch(/STALE$/);
    const dry = await f.run(["prune"]);
    expect(dry.code).toBe(0);
    expect(dry.out.join("\n")).toContain(`the checkout at ${wt} no longer exists`);
    // Every column has a header.
    expect(dry.out[0]?.split(/\s+/)).toEqual([
      "STATE",
      "ID",
      "APP",
      "INSTANCE",
      "SERVICE",
      "PORT",
      "WHY",
    ]);
    expect(dry.out.at(-1)).toBe(
      "1 allocation would be released; run portctl prune --yes to release it",
    );
    // Fitted to the terminal (here COLUMNS): the long WHY is cut with …, the numbers never.
    const narrow = await f.run(["prune"], { env: { ...f.env, COLUMNS: "60" } });
    const rows = narrow.out.slice(0, -1);
    expect(rows.every((l) => Bun.stringWidth(l) <= 60)).toBe(true);
    expect(rows[1]).toContain(String(port));
    expect(rows[1]?.endsWith("…")).toBe(true);
    expect(await f.api<Allocation[]>(`/v1/allocations?port=${port}`)).toHaveLength(1);

    const yes = await f.run(["prune", "--yes", "--json"]);
    expect(JSON.parse(yes.out.join("\n"))).toMatchObject({
      dry_run: false,
      candidates: [{ allocation: { port }, cause: "checkout_gone" }],
    });
    expect(await f.api<Allocation[]>(`/v1/allocations?port=${port}`)).toEqual([]);
    expect(await f.api<Allocation[]>(`/v1/allocations?port=${kept.out[0]}`)).toHaveLength(1);
    expect((await f.run(["prune"])).out).toEqual(["nothing to prune"]);

    const h = await f.run(["history", "--port", String(port), "--json"]);
    expect((JSON.parse(h.out.join("\n")) as PortEvent[]).map((e) => e.kind)).toEqual([
      "pruned",
      "allocated",
    ]);
  });

  test("--unused-for takes a duration; a bad one is one line, exit 1", async () => {
    const bad = await f.run(["prune", "--unused-for", "a month"]);
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toBe(
      "error: invalid value 'a month' for --unused-for: must be a duration such as 30m, 3h, 1d or 2w",
    );
    expect((await f.run(["prune", "--unused-for", "30d"])).code).toBe(0);
  });
});

describe("leases", () => {
  test("--lease-pid ties the port to a process: marked in list, gone after it dies", async () => {
    const child = Bun.spawn(["sleep", "60"]);
    const a = await f.run(["allocate", "--lease-pid", String(child.pid), "--service", "tmp"]);
    expect(a.out[0]).toEndWith(`, leased to process ${child.pid}`);
    const list = await f.run(["list"]);
    expect(list.out.find((l) => l.includes(" tmp "))).toMatch(
      new RegExp(`leased \\(pid ${child.pid}\\)$`),
    );
    killHard(child.pid);
    await child.exited;
    const deadline = Date.now() + 3000;
    while (
      Date.now() < deadline &&
      (await f.api<Allocation[]>("/v1/allocations?service=tmp")).length
    )
      await Bun.sleep(100);
    expect(await f.api<Allocation[]>("/v1/allocations?service=tmp")).toEqual([]);
    const check = await f.run(["check", "--port", a.out[0]?.match(/port (\d+)/)?.[1] ?? "0"]);
    expect(check.out[0]).toMatch(
      /is available \(lease ended (just now|\d+ s ago) from myapp\/default\/tmp\)$/,
    );
  });

  test("--lease is the caller's parent; with --lease-pid too, or a dead PID, exit 1", async () => {
    const a = await f.alloc("--lease", "--service", "parent");
    expect(a.lease_pid).toBe(process.ppid);
    const both = await f.run(["allocate", "--lease", "--lease-pid", "1", "--service", "x"]);
    expect(both).toMatchObject({
      code: 1,
      err: ["error: --lease and --lease-pid both name the process; pass one"],
    });
    const dead = await f.run(["allocate", "--lease-pid", "4194300", "--service", "x"]);
    expect(dead).toMatchObject({
      code: 1,
      err: ["error: --lease-pid 4194300 is not a running process"],
    });
  });
});

describe("history, export and import", () => {
  test("history filters and prints newest first", async () => {
    const port = freePort();
    const other = port === 65535 ? port - 1 : port + 1;
    await f.run(["allocate", "--service", "h1", "--port", String(port)]);
    await f.run(["release", "--port", String(port)]);
    const h = await f.run(["history", "--port", String(port)]);
    expect(h.code).toBe(0);
    expect(h.out[0]).toMatch(/^WHEN\s+EVENT\s+PORT\s+ALLOCATION\s+PID\s+REASON\s+CHECKOUT$/);
    expect(h.out[1]).toMatch(
      new RegExp(
        `released\\s+${port}\\s+myapp/default/h1\\s+\\d+\\s+released by filter port=${port}`,
      ),
    );
    expect(h.out[2]).toMatch(new RegExp(`allocated\\s+${port}\\s+myapp/default/h1`));
    expect((await f.run(["history", "--port", String(other)])).out).toEqual([
      `no events match port=${other}`,
    ]);
    expect((await f.run(["history", "--since", "soon"])).code).toBe(1);
  });

  test("export → import into an empty registry gives the same rows; conflicts import nothing", async () => {
    await f.run(["allocate", "--service", "e1"]);
    const exported = await f.run(["export", "--all"]);
    const rows = JSON.parse(exported.out.join("\n")) as Allocation[];
    expect(rows).toEqual(await f.allocations());
    const file = join(f.home.root, "ports.json");
    writeFileSync(file, exported.out.join("\n"));

    const other = await cliFixture();
    try {
      const imp = await other.run(["import", file]);
      expect(imp).toMatchObject({ code: 0, out: [`imported ${rows.length} allocations`] });
      expect(await other.allocations()).toEqual(rows);
      expect((await other.run(["import", file])).out).toEqual([
        `imported 0 allocations (${rows.length} already registered)`,
      ]);
      const clash = join(other.home.root, "clash.json");
      writeFileSync(clash, JSON.stringify([{ ...rows[0], service: "other" }]));
      const bad = await other.run(["import", clash]);
      expect(bad.code).toBe(1);
      expect(bad.err[0]).toStartWith(
        "error: nothing imported: 1 conflict with the registry: port ",
      );
      expect(await other.allocations()).toEqual(rows);
      const missing = await other.run(["import", join(other.home.root, "nope.json")]);
      expect(missing).toMatchObject({ code: 1, err: [expect.stringMatching(/: no such file$/)] });
    } finally {
      await other.close();
    }
  });
});
