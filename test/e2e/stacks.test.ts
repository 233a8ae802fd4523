// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// The "done when", with the real Docker Engine and Debian's docker-compose, driving the
// compiled portctl: two clones of one repository with the same folder name, three worktrees of
// it, and a second repository whose worktrees sit in folders named like the first one's, all
// `portctl run -- docker-compose up -d` at once. Each stack answers with its own content (kept
// in its own named volume) on its own port under its own project name; `down` in one leaves
// the others up; `down` then `up` brings the same port and name back. Unique folder names per
// run; every project is brought down with its volumes (test/helpers/docker.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation, Project } from "../../src/core/model.ts";
import { freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import type { Daemon, TempHome } from "../helpers/daemon.ts";
import {
  composeProject,
  type DockerEngine,
  docker,
  dockerEngine,
  httpText,
  runContainer,
  type StackFixture,
  stackFixture,
  uniqueName,
} from "../helpers/docker.ts";
import { git } from "../helpers/git.ts";

const engine: DockerEngine | undefined = await dockerEngine();

let fx: StackFixture;
let home: TempHome;
let daemon: Daemon;
let env: Record<string, string>;
let image = "";

beforeAll(async () => {
  if (!engine) return;
  fx = await stackFixture("portctl-e2e-stacks-");
  ({ home, daemon, env, image } = fx);
}, 300_000);

afterAll(async () => {
  if (!engine) return;
  // Every project portctl named, brought down with its volumes, whatever the test did.
  try {
    const projects = await api<Project[]>("/v1/projects");
    for (const p of projects) await composeProject(p.checkout, { name: p.name });
  } finally {
    await fx?.close();
  }
}, 300_000);

async function api<T>(path: string): Promise<T> {
  return (await (await checkedFetch(`${daemon.url}${path}`)).json()) as T;
}

/** `portctl …` in `cwd`; the output as text. */
const portctlIn = (cwd: string, ...args: string[]) => fx.run(cwd, ...args);

/**
 * The stack every checkout has: a busybox httpd whose page is what its named volume says,
 * written there from CONTENT (the checkout's `.env`) on the volume's first start only. Two
 * stacks sharing a volume would serve one content.
 */
function composeFile(defaultPort: number): string {
  return [
    "services:",
    "  web:",
    `    image: ${image}`,
    "    ports:",
    `      - "127.0.0.1:\${WEB_PORT:-${defaultPort}}:80"`,
    "    environment:",
    '      CONTENT: "${CONTENT:-none}"',
    "    command:",
    "      - /bin/sh",
    "      - -c",
    '      - "[ -f /data/who ] || echo \\"$$CONTENT\\" > /data/who; cp /data/who /www/index.html; exec httpd -f -p 80 -h /www"',
    "    volumes:",
    "      - data:/data",
    "volumes:",
    "  data: {}",
    "",
  ].join("\n");
}

interface Checkout {
  dir: string;
  label: string;
  /** portctl run's own flags (`--instance review` for the second clone). */
  flags: string[];
}

function stackIn(dir: string, label: string, defaultPort: number): void {
  writeFileSync(join(dir, "docker-compose.yml"), composeFile(defaultPort));
  writeFileSync(join(dir, ".env"), `CONTENT=${label}\n`);
}

function newRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  git(dir, "commit", "-q", "--allow-empty", "-m", "init");
}

async function portOf(c: Checkout): Promise<number> {
  const rows = await api<Allocation[]>("/v1/allocations");
  const row = rows.find((r) => r.checkout === c.dir && r.service === "web");
  if (!row) throw new Error(`no web port for ${c.dir}`);
  return row.port;
}

async function nameOf(c: Checkout): Promise<string> {
  const projects = await api<Project[]>("/v1/projects");
  const p = projects.find((x) => x.checkout === c.dir);
  if (!p) throw new Error(`no project for ${c.dir}`);
  return p.name;
}

describe.skipIf(!engine)("every checkout its own stack, on the real engine", () => {
  test("two clones, three worktrees, a second repository with the same branch folders: all up, isolated, on their own ports", async () => {
    const shop = uniqueName("shop");
    const blog = uniqueName("blog");
    const branches = [uniqueName("fix"), uniqueName("fix"), uniqueName("fix")];
    const defaultPort = freePort(); // the file's number: only the first checkout may keep it
    const work = join(home.root, "work", shop);
    const review = join(home.root, "review", shop);
    newRepo(work);
    newRepo(review);
    const blogMain = join(home.root, "src", blog);
    newRepo(blogMain);
    const checkouts: Checkout[] = [
      { dir: work, label: "shop clone work", flags: [] },
      { dir: review, label: "shop clone review", flags: ["--instance", "review"] },
    ];
    for (const b of branches) {
      for (const [repo, main] of [
        [shop, work],
        [blog, blogMain],
      ] as const) {
        const tree = join(home.root, "trees", repo, b);
        mkdirSync(join(home.root, "trees", repo), { recursive: true });
        git(main, "worktree", "add", "-q", tree, "-b", b);
        checkouts.push({ dir: tree, label: `${repo} tree ${b}`, flags: [] });
      }
    }
    for (const c of checkouts) stackIn(c.dir, c.label, defaultPort);

    // Up, one after the other, all at once on the machine.
    for (const c of checkouts) {
      const up = await portctlIn(c.dir, "run", ...c.flags, "--", "docker-compose", "up", "-d");
      expect({ dir: c.dir, code: up.code, err: up.err }).toMatchObject({ code: 0 });
    }
    const ports = await Promise.all(checkouts.map(portOf));
    const names = await Promise.all(checkouts.map(nameOf));
    expect(new Set(ports).size).toBe(checkouts.length);
    expect(new Set(names).size).toBe(checkouts.length);
    // The first clone keeps Compose's own name and the file's port.
    expect(names[0]).toBe(shop);
    expect(ports[0]).toBe(defaultPort);
    expect(names[1]).toBe(`${shop}-review`);
    // The blog worktrees sit in folders named like the shop's: the app tells them apart.
    expect(names[3]).toBe(`${branches[0]}-${blog}`);
    // Each answers with its own content, from its own volume.
    for (const [i, c] of checkouts.entries()) {
      expect(await httpText(ports[i] as number)).toBe(`${c.label}\n`);
    }
    // check names the container and its project, for the first clone's port and a blog tree's.
    for (const i of [0, 3]) {
      const check = await portctlIn(work, "check", "--port", String(ports[i]));
      expect(check.out).toContain(`published by container ${names[i]}_web_1`);
      expect(check.out).toContain(`(Compose project ${names[i]},`);
    }
    const volumes = (await docker("volume", "ls", "-q")).stdout.split("\n");
    for (const name of names) expect(volumes).toContain(`${name}_data`);

    // down in the second clone (no --instance: down allocates nothing) leaves every other up.
    const review2 = checkouts[1] as Checkout;
    const down = await portctlIn(review2.dir, "run", "--", "docker-compose", "down");
    expect(down.code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${ports[1]}/`)).rejects.toThrow();
    for (const [i, c] of checkouts.entries()) {
      if (i !== 1) expect(await httpText(ports[i] as number)).toBe(`${c.label}\n`);
    }
    // up again: the same port, the same name, the same volume's content.
    const up = await portctlIn(
      review2.dir,
      "run",
      ...review2.flags,
      "--",
      "docker-compose",
      "up",
      "-d",
    );
    expect(up.code).toBe(0);
    expect(await portOf(review2)).toBe(ports[1] as number);
    expect(await nameOf(review2)).toBe(names[1] as string);
    expect(await httpText(ports[1] as number)).toBe(`${review2.label}\n`);
    // ps in the first clone shows its own container only.
    const ps = await portctlIn(work, "run", "--", "docker-compose", "ps", "-q");
    expect(ps.code).toBe(0);
    expect(ps.out.trim().split("\n")).toHaveLength(1);
  }, 600_000);

  test("a stack made by plain docker-compose before port-server keeps its name, containers and volume", async () => {
    const shop = uniqueName("shop");
    const pre = join(home.root, "pre", shop);
    const later = join(home.root, "later", shop);
    newRepo(pre);
    newRepo(later);
    stackIn(pre, "made before", freePort());
    stackIn(later, "made later", freePort());
    // Compose's own name for the folder, without portctl: the registry knows nothing of it.
    const plain = await composeProject(pre, { name: shop });
    expect((await plain.run("up", "-d")).code).toBe(0);
    const ids = async () =>
      (
        await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${shop}`)
      ).stdout.trim();
    const before = await ids();
    expect(before).not.toBe("");

    // The other clone runs portctl first: it must not take the running stack's name.
    const up = await portctlIn(later, "run", "--", "docker-compose", "up", "-d");
    expect({ code: up.code, err: up.err }).toMatchObject({ code: 0 });
    expect(up.err).toContain(`Compose project ${shop} is already running for ${pre}`);
    const laterName = await nameOf({ dir: later, label: "", flags: [] });
    expect(laterName).not.toBe(shop);
    expect(await nameOf({ dir: pre, label: "", flags: [] })).toBe(shop);
    // The first stack's container was neither recreated nor joined, and serves its own volume.
    expect(await ids()).toBe(before);
    const prePort = Number((await docker("port", before, "80")).stdout.trim().split(":").at(-1));
    expect(await httpText(prePort)).toBe("made before\n");
    expect(await httpText(await portOf({ dir: later, label: "", flags: [] }))).toBe("made later\n");
  }, 300_000);

  test("up refuses a registered port that something else holds, naming it and how to move; its own stack's containers are fine", async () => {
    const shop = uniqueName("shop");
    const dir = join(home.root, "taken", shop);
    newRepo(dir);
    stackIn(dir, "taken", freePort());
    const checkout: Checkout = { dir, label: "", flags: [] };
    const first = await portctlIn(dir, "run", "--", "docker-compose", "up", "-d");
    expect({ code: first.code, err: first.err }).toMatchObject({ code: 0 });
    const port = await portOf(checkout);
    // Its own containers hold the port: up again is Compose's own business.
    expect((await portctlIn(dir, "run", "--", "docker-compose", "up", "-d")).code).toBe(0);
    expect((await portctlIn(dir, "run", "--", "docker-compose", "down")).code).toBe(0);

    const label = `label=com.docker.compose.project=${shop}`;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: () => new Response("squatter"),
    });
    try {
      const up = await portctlIn(dir, "run", "--", "docker-compose", "up", "-d");
      expect(up.code).toBe(1);
      expect(up.err).toContain(`web → ${port} is already in use by `);
      expect(up.err).toContain(
        `: not this stack's; stop it, or move the service: portctl release --service web --instance main, then run again`,
      );
      expect((await docker("ps", "-aq", "--filter", label)).stdout.trim()).toBe("");
    } finally {
      server.stop(true);
    }
    // Another project's container on it: named as such.
    const other = await runContainer({
      image,
      ports: [80],
      hostPorts: [port],
      name: uniqueName("squat"),
    });
    const up = await portctlIn(dir, "run", "--", "docker-compose", "up", "-d");
    expect(up.code).toBe(1);
    expect(up.err).toContain(
      `web → ${port} is already in use by container ${other.name}: not this stack's`,
    );
    expect((await docker("ps", "-aq", "--filter", label)).stdout.trim()).toBe("");
  }, 300_000);

  test("docker compose where docker has no Compose plugin: Docker's error, then a hint to use docker-compose", async () => {
    const plugin = Bun.spawnSync(["docker", "compose", "version"], { env }).exitCode === 0;
    if (plugin) {
      console.log("skip: this docker has the Compose plugin; the hint is for one without");
      return;
    }
    const shop = uniqueName("shop");
    const dir = join(home.root, "noplugin", shop);
    newRepo(dir);
    stackIn(dir, "no plugin", freePort());
    const up = await portctlIn(dir, "run", "--", "docker", "compose", "up", "-d");
    expect(up.code).not.toBe(0);
    expect(up.err).toContain(
      'hint: this docker has no Compose plugin ("docker compose"); run it as docker-compose: portctl run -- docker-compose up -d',
    );
  }, 120_000);

  test("a deleted checkout's stack keeps its project name while its containers exist; prune frees it after", async () => {
    const shop = uniqueName("shop");
    const dir = join(home.root, "deleted", shop);
    newRepo(dir);
    stackIn(dir, "deleted checkout", freePort());
    const up = await portctlIn(dir, "run", "--", "docker-compose", "up", "-d");
    expect(up.code).toBe(0);
    const checkout: Checkout = { dir, label: "", flags: [] };
    expect(await nameOf(checkout)).toBe(shop);
    rmSync(dir, { recursive: true, force: true });

    // The stack runs on: another checkout given the name would take over its container and volume.
    const first = await portctlIn(home.root, "prune", "--yes");
    expect(first.code).toBe(0);
    expect(first.out).toContain(
      `kept Compose project name ${shop} of ${shop}/main: the checkout at ${dir} no longer exists, but 1 container of Compose project ${shop} still exists`,
    );
    expect(await nameOf(checkout)).toBe(shop);

    // Stopped containers count too (their volumes are still attached to the name).
    const label = `label=com.docker.compose.project=${shop}`;
    const ids = (await docker("ps", "-aq", "--filter", label)).stdout.trim().split("\n");
    expect((await docker("stop", "-t", "0", ...ids)).code).toBe(0);
    const stopped = await portctlIn(home.root, "prune", "--yes");
    expect(stopped.out).toContain(`kept Compose project name ${shop} of ${shop}/main`);

    // The command prune prints removes them (Compose itself cannot: its file went with the
    // folder); then the name is freed with the ports.
    const line = stopped.out
      .split("\n")
      .find((l) => l.startsWith(`kept Compose project name ${shop}`));
    const printed = /remove them and its network with: (.+)\)$/.exec(line ?? "");
    expect(printed?.[1]).toStartWith("docker rm -f $(docker ps -aq --filter ");
    const removal = Bun.spawnSync(["sh", "-c", printed?.[1] ?? "false"], { env });
    expect(removal.exitCode).toBe(0);
    expect((await docker("ps", "-aq", "--filter", label)).stdout.trim()).toBe("");
    expect((await docker("network", "ls", "-q", "--filter", label)).stdout.trim()).toBe("");
    // Its volume stays (data); this test's own is removed here, as nothing else will.
    expect((await docker("volume", "rm", `${shop}_data`)).code).toBe(0);
    const last = await portctlIn(home.root, "prune", "--yes");
    expect(last.out).toContain(`freed Compose project name ${shop} of ${shop}/main`);
    const projects = await api<Project[]>("/v1/projects");
    expect(projects.find((p) => p.checkout === dir)).toBeUndefined();
  }, 300_000);
});
