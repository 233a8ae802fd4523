// `portctl run -- docker-compose …` as Compose reads it, with a stand-in `docker-compose` that
// writes down what it was given (project name, port variables, arguments): the checkout's own
// project name, profiles, ranges moved with a block, -f/--project-directory/--env-file, and
// the commands that only look (down, ps, logs) allocating nothing. test/e2e/stacks.test.ts runs
// the real engine.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseComposeArgs } from "../../src/cli/run/compose-args.ts";
import { type CliFixture, cliFixture, freePort } from "../helpers/cli.ts";
import { git } from "../helpers/git.ts";

setDefaultTimeout(30_000);

let f: CliFixture;
let log: string;
let env: Record<string, string>;
let work: string;
let review: string;
let p: number;

beforeEach(async () => {
  f = await cliFixture("x");
  const bin = join(f.home.root, "bin");
  mkdirSync(bin);
  log = join(f.home.root, "compose.log");
  writeFileSync(
    join(bin, "docker-compose"),
    `#!/bin/sh\necho "name=$COMPOSE_PROJECT_NAME web=$WEB_PORT dbg=$DBG_PORT cache=$CACHE_PORT-$CACHE_PORT_END args=$*" >> "${log}"\n`,
  );
  chmodSync(join(bin, "docker-compose"), 0o755);
  env = {
    ...(f.env as Record<string, string>),
    PATH: `${bin}:${process.env.PATH}`,
    // The stand-in Compose runs no engine: neither may the checks portctl makes of one (a real
    // stack named shop on this machine's engine would otherwise change what run decides).
    DOCKER_HOST: `unix://${join(f.home.root, "no-engine.sock")}`,
  };
  p = freePort();
  work = clone("work");
  review = clone("review");
});
afterEach(() => f.close());

/** `<home>/<parent>/shop`: a git checkout on main with a Compose file. */
function clone(parent: string, file = composeFile()): string {
  const dir = join(f.home.root, parent, "shop");
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "compose.yaml"), file);
  return dir;
}

function composeFile(extra = ""): string {
  return `services:\n  web:\n    image: x\n    ports: ["\${WEB_PORT:-${p}}:80"]\n${extra}`;
}

async function run(cwd: string, ...argv: string[]) {
  const r = await f.run(["run", ...argv], { cwd, env });
  return { ...r, calls: calls() };
}

function calls(): string[] {
  try {
    return readFileSync(log, "utf8").trim().split("\n");
  } catch {
    return [];
  }
}

describe("the checkout's own project name", () => {
  test("two clones with one folder name: the first keeps shop, the second gets shop-review and says so", async () => {
    const a = await run(work, "--", "docker-compose", "up", "-d");
    expect(a.code).toBe(0);
    expect(a.err).toEqual([`web → ${p}`]);
    const b = await run(review, "--instance", "review", "--", "docker-compose", "up", "-d");
    expect(b.code).toBe(0);
    const mine = (await f.allocations()).find((r) => r.instance === "review")?.port;
    expect(b.err).toEqual([
      "Compose project shop belongs to another checkout; this checkout's stack is shop-review",
      `web → ${mine}`,
    ]);
    expect(mine).not.toBe(p);
    expect(b.calls).toEqual([
      `name=shop web=${p} dbg= cache=- args=up -d`,
      `name=shop-review web=${mine} dbg= cache=- args=up -d`,
    ]);
    // Stable: the same name and port again.
    const again = await run(review, "--instance", "review", "--", "docker-compose", "up", "-d");
    expect(again.calls.at(-1)).toBe(`name=shop-review web=${mine} dbg= cache=- args=up -d`);
  });

  test("down, ps and logs in a second clone with nothing allocated: its own name, no --instance, nothing allocated", async () => {
    expect((await run(work, "--", "docker-compose", "up", "-d")).code).toBe(0);
    const before = await f.allocations();
    for (const sub of ["down", "ps", "logs"]) {
      const r = await run(review, "--", "docker-compose", sub);
      expect(r.code).toBe(0);
      expect(r.calls.at(-1)).toBe(`name=shop-main web= dbg= cache=- args=${sub}`);
    }
    expect(await f.allocations()).toEqual(before);
    // The first clone's down gets its own name and its ports back.
    const down = await run(work, "--", "docker-compose", "down");
    expect(down.calls.at(-1)).toBe(`name=shop web=${p} dbg= cache=- args=down`);
  });

  test("an explicit -p another checkout holds is refused with one line, taken with --force", async () => {
    await run(work, "--", "docker-compose", "up");
    const refused = await run(
      review,
      "--instance",
      "review",
      "--",
      "docker-compose",
      "-p",
      "shop",
      "up",
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([
      `error: Compose project shop belongs to the checkout at ${work}; this one is ${review} — pass --force to take it, or drop -p to get this checkout's own`,
    ]);
    expect(refused.calls).toHaveLength(1);
    expect((await f.allocations()).map((a) => a.instance)).toEqual(["main"]);
    // COMPOSE_PROJECT_NAME in the environment is as explicit as -p.
    const viaEnv = await f.run(["run", "--instance", "review", "--", "docker-compose", "up"], {
      cwd: review,
      env: { ...env, COMPOSE_PROJECT_NAME: "shop" },
    });
    expect(viaEnv.code).toBe(1);
    const forced = await run(
      review,
      "--instance",
      "review",
      "--force",
      "--",
      "docker-compose",
      "-p",
      "shop",
      "up",
    );
    expect(forced.code).toBe(0);
    expect(forced.calls.at(-1)).toMatch(/^name=shop web=\d+ /);
    const projects = await f.api<{ name: string; checkout: string }[]>("/v1/projects");
    expect(projects.map((x) => [x.name, x.checkout])).toEqual([["shop", review]]);
  });

  test(".env's COMPOSE_PROJECT_NAME and the file's name: are Compose's own choice", async () => {
    writeFileSync(join(work, ".env"), "COMPOSE_PROJECT_NAME=storefront\n");
    expect((await run(work, "--", "docker-compose", "ps")).calls.at(-1)).toStartWith(
      "name=storefront ",
    );
    writeFileSync(join(review, "compose.yaml"), `name: shopx\n${composeFile()}`);
    expect((await run(review, "--", "docker-compose", "ps")).calls.at(-1)).toStartWith(
      "name=shopx ",
    );
  });

  test("a hostile name from the repository (.env) reaches the terminal escaped, and nothing runs", async () => {
    writeFileSync(join(work, ".env"), "COMPOSE_PROJECT_NAME=x\u001b[31mred\u202e\n");
    const r = await run(work, "--", "docker-compose", "up");
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).not.toContain("\u001b");
    expect(r.err[0]).not.toContain("\u202e");
    expect(r.err[0]).toStartWith("error: the project name Compose would pick (x");
    expect(r.calls).toEqual([]);
    expect(await f.allocations()).toEqual([]);
  });

  test("a name Compose would refuse is one line, nothing run", async () => {
    const r = await run(work, "--", "docker-compose", "-p", "Not Valid", "up");
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toStartWith(
      "error: the project name given (Not Valid) must be a Compose project name",
    );
    expect(r.calls).toEqual([]);
  });
});

describe("where the name shows", () => {
  test("list -l, env --json and env's dotenv name each checkout's project; prune frees a gone one's", async () => {
    await run(work, "--", "docker-compose", "up");
    await run(review, "--instance", "review", "--", "docker-compose", "up");
    const list = await f.run(["list", "-l", "--app", "shop"], { cwd: work, env });
    expect(list.code).toBe(0);
    const header = list.out[0] ?? "";
    expect(header).toContain("PROJECT");
    const at = header.indexOf("PROJECT");
    const names = list.out.slice(1).map((l) => l.slice(at).split(/\s+/)[0]);
    expect(names).toEqual(["shop", "shop-review"]);
    // Without --instance the second clone finds its own instance by its checkout: its ports and
    // its project name, never the first clone's.
    const reviewPort = (await f.allocations()).find((a) => a.instance === "review")?.port;
    const json = await f.run(["env", "--json"], { cwd: review, env: { ...env } });
    expect(JSON.parse(json.out.join("\n"))).toEqual({
      WEB_PORT: reviewPort,
      COMPOSE_PROJECT_NAME: "shop-review",
    });
    const mine = await f.run(["env", "--json", "--instance", "review"], { cwd: review, env });
    expect(JSON.parse(mine.out.join("\n"))).toMatchObject({ COMPOSE_PROJECT_NAME: "shop-review" });
    const dotenv = await f.run(["env"], { cwd: work, env });
    expect(dotenv.out).toEqual([`WEB_PORT=${p}`, "COMPOSE_PROJECT_NAME=shop"]);
    rmSync(review, { recursive: true });
    const pruned = await f.run(["prune", "--yes"], { cwd: work, env });
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain(
      `freed Compose project name shop-review of shop/review: the checkout at ${review} no longer exists`,
    );
    const left = await f.api<{ name: string }[]>("/v1/projects");
    expect(left.map((x) => x.name)).toEqual(["shop"]);
  });
});

describe("profiles", () => {
  const withDebug = () =>
    composeFile(
      `  dbg:\n    image: x\n    profiles: [debug]\n    ports: ["\${DBG_PORT:-${p + 1}}:80"]\n`,
    );

  test("only what the active profiles start is allocated: --profile, COMPOSE_PROFILES, a named service", async () => {
    writeFileSync(join(work, "compose.yaml"), withDebug());
    await run(work, "--", "docker-compose", "up");
    expect((await f.allocations()).map((a) => a.service)).toEqual(["web"]);
    await run(work, "--", "docker-compose", "--profile", "debug", "up");
    expect((await f.allocations()).map((a) => a.service)).toEqual(["web", "dbg"]);
    expect(calls().at(-1)).toContain(" dbg=");
    expect(calls().at(-1)).not.toContain(" dbg= ");
    await f.run(["release", "--service", "dbg"], { cwd: work, env });
    const viaEnv = await f.run(["run", "--", "docker-compose", "up"], {
      cwd: work,
      env: { ...env, COMPOSE_PROFILES: "other,debug" },
    });
    expect(viaEnv.code).toBe(0);
    expect((await f.allocations()).map((a) => a.service)).toEqual(["web", "dbg"]);
    await f.run(["release", "--service", "dbg"], { cwd: work, env });
    await run(work, "--", "docker-compose", "up", "-d", "dbg");
    expect((await f.allocations()).map((a) => a.service)).toEqual(["web", "dbg"]);
  });

  test("a named service's profile becomes active: the services it depends on in that profile get ports too", async () => {
    // The specification: a service targeted on the command line adds its profiles to the active
    // ones, so `up -d dbg` also starts dbgdb (dbg depends on it, both of profile debug).
    const mates = `  dbgdb:\n    image: x\n    profiles: [debug]\n    ports: ["\${DBGDB_PORT:-${p + 2}}:5432"]\n`;
    const file = withDebug().replace(
      "    image: x\n    profiles: [debug]",
      "    image: x\n    profiles: [debug]\n    depends_on: [dbgdb]",
    );
    writeFileSync(join(work, "compose.yaml"), `${file}${mates}`);
    await run(work, "--", "docker-compose", "up", "-d", "dbg");
    expect((await f.allocations()).map((a) => a.service).sort()).toEqual(["dbg", "dbgdb", "web"]);
  });
});

describe("release", () => {
  test("releasing an instance frees its checkout's project name with its ports; a service alone does not", async () => {
    await run(work, "--", "docker-compose", "up");
    await run(review, "--instance", "review", "--", "docker-compose", "up");
    const one = await f.run(["release", "--instance", "review", "--service", "web"], {
      cwd: review,
      env,
    });
    expect(one.out).toEqual(["released 1 allocation (app=shop instance=review service=web)"]);
    expect((await f.api<{ name: string }[]>("/v1/projects")).map((x) => x.name)).toEqual([
      "shop",
      "shop-review",
    ]);
    const all = await f.run(["release", "--instance", "review"], { cwd: review, env });
    expect(all.code).toBe(0);
    expect(all.out).toEqual([
      "released 0 allocations and Compose project name shop-review (app=shop instance=review)",
    ]);
    expect((await f.api<{ name: string }[]>("/v1/projects")).map((x) => x.name)).toEqual(["shop"]);
    const events = await f.api<{ kind: string; project: string | null }[]>("/v1/events?limit=1");
    expect(events[0]).toMatchObject({ kind: "project_released", project: "shop-review" });
    const history = await f.run(["history", "--app", "shop"], { cwd: work, env });
    expect(history.out.find((l) => l.includes("project_released"))).toMatch(
      /project_released\s+shop\/review project shop-review\s/,
    );
  });
});

describe("scan and profiles", () => {
  test("scan says which profile a port belongs to, in the table and in --json", async () => {
    writeFileSync(
      join(work, "compose.yaml"),
      composeFile(`  dbg:\n    image: x\n    profiles: [debug, tools]\n    ports: ["7001:80"]\n`),
    );
    const table = await f.run(["scan"], { cwd: work, env });
    expect(table.code).toBe(0);
    expect(table.out[0]).toMatch(/PROFILE$/);
    expect(table.out.find((l) => l.startsWith("7001"))).toMatch(/debug, tools$/);
    expect(table.out.find((l) => l.startsWith(String(p)))).toMatch(/-$/);
    const json = await f.run(["scan", "--json"], { cwd: work, env });
    const found = JSON.parse(json.out.join("\n")).findings as {
      port: number;
      profiles?: string[];
    }[];
    expect(found.map((x) => [x.port, x.profiles])).toEqual([
      [p, undefined],
      [7001, ["debug", "tools"]],
    ]);
  });
});

describe("ranges", () => {
  test("a range set by two variables is moved with a block; a literal one is named with its fix", async () => {
    const file = composeFile(
      `  cache:\n    image: x\n    ports:\n      - "\${CACHE_PORT:-${p + 10}}-\${CACHE_PORT_END:-${p + 11}}:9000-9001"\n  queue:\n    image: x\n    ports: ["7100-7102:7100-7102"]\n`,
    );
    writeFileSync(join(work, "compose.yaml"), file);
    writeFileSync(join(review, "compose.yaml"), file);
    const a = await run(work, "--", "docker-compose", "up");
    expect(a.code).toBe(0);
    expect(a.err).toEqual([
      `web → ${p}`,
      `cache → ${p + 10}-${p + 11}`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose syntax, printed as is
      "queue: host ports 7100-7102 are written as numbers (compose.yaml:11) and cannot be moved; portctl scan --fix makes them ${QUEUE_PORT:-7100}-${QUEUE_PORT_END:-7102}",
    ]);
    expect(a.calls.at(-1)).toBe(`name=shop web=${p} dbg= cache=${p + 10}-${p + 11} args=up`);
    const b = await run(review, "--instance", "review", "--", "docker-compose", "up");
    const rows = (await f.allocations()).filter((r) => r.instance === "review");
    const block = rows.filter((r) => r.block_id !== null);
    expect(block.map((r) => r.service)).toEqual(["cache", "cache-2"]);
    const [lo, hi] = block.map((r) => r.port);
    expect(hi).toBe((lo as number) + 1);
    expect(lo).not.toBe(p + 10);
    expect(b.calls.at(-1)).toContain(`cache=${lo}-${hi} `);
  });
});

describe("-f, --project-directory, --env-file", () => {
  test("are honoured: the files, the folder that names the project, the variables", async () => {
    const sub = join(work, "deploy");
    mkdirSync(sub);
    writeFileSync(join(sub, "stack.yml"), composeFile());
    writeFileSync(join(work, "ci.env"), `WEB_PORT=${p + 20}\nCOMPOSE_PROJECT_NAME=ci\n`);
    const r = await run(
      work,
      "--",
      "docker-compose",
      "-f",
      "deploy/stack.yml",
      "--env-file",
      "ci.env",
      "up",
    );
    expect(r.code).toBe(0);
    expect(r.calls.at(-1)).toBe(
      `name=ci web=${p + 20} dbg= cache=- args=-f deploy/stack.yml --env-file ci.env up`,
    );
    const d = await run(work, "--", "docker-compose", "-f", "deploy/stack.yml", "ps");
    expect(d.calls.at(-1)).toStartWith("name=deploy ");
    const pd = await run(
      work,
      "--",
      "docker-compose",
      "--project-directory",
      sub,
      "-f",
      "compose.yaml",
      "ps",
    );
    expect(pd.calls.at(-1)).toStartWith("name=deploy ");
  });

  test("version, help and no subcommand run as they are, with no Compose file anywhere", async () => {
    const empty = join(f.home.root, "empty");
    mkdirSync(empty);
    for (const argv of [["version"], ["help"], []]) {
      const r = await run(empty, "--", "docker-compose", ...argv);
      expect(r.code).toBe(0);
      expect(r.calls.at(-1)).toBe(`name= web= dbg= cache=- args=${argv.join(" ")}`);
    }
    const up = await run(empty, "--", "docker-compose", "up");
    expect(up.code).toBe(1);
    expect(up.err).toEqual([`error: no Compose file in ${empty}`]);
  });

  test("COMPOSE_ENV_FILES is read as --env-file is (Compose v2), and a missing one refused", async () => {
    writeFileSync(join(work, "ci.env"), `WEB_PORT=${p + 21}\nCOMPOSE_PROJECT_NAME=ci\n`);
    const r = await f.run(["run", "--", "docker-compose", "up"], {
      cwd: work,
      env: { ...env, COMPOSE_ENV_FILES: "ci.env" },
    });
    expect(r.code).toBe(0);
    expect(calls().at(-1)).toBe(`name=ci web=${p + 21} dbg= cache=- args=up`);
    const missing = await f.run(["run", "--", "docker-compose", "up"], {
      cwd: work,
      env: { ...env, COMPOSE_ENV_FILES: "ci.env, nope.env" },
    });
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([
      `error: COMPOSE_ENV_FILES names ${join(work, "nope.env")}: no such file`,
    ]);
  });

  test("a missing --env-file is one line and nothing runs", async () => {
    const r = await run(work, "--", "docker-compose", "--env-file", "nope.env", "up");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`error: --env-file ${join(work, "nope.env")}: no such file`]);
    expect(r.calls).toEqual([]);
    expect(await f.allocations()).toEqual([]);
  });
});

describe("parseComposeArgs", () => {
  test.each([
    [
      "docker compose -f a.yml -f b.yml -p x up -d web",
      { files: ["a.yml", "b.yml"], projectName: "x", subcommand: "up", services: ["web"] },
    ],
    [
      "docker --context c compose --profile a --profile=b up",
      { profiles: ["a", "b"], subcommand: "up" },
    ],
    [
      "docker-compose --project-directory=/p --env-file e down -v",
      { projectDirectory: "/p", envFiles: ["e"], subcommand: "down" },
    ],
    [
      "docker-compose -fstack.yml -pname up -t 5 web",
      { files: ["stack.yml"], projectName: "name", services: ["web"] },
    ],
    ["podman-compose up --scale web=2 db", { subcommand: "up", services: ["db"] }],
    ["docker compose run --rm -e A=1 web sh -c x", { subcommand: "run", services: ["web"] }],
  ])("%s", (line, expected) => {
    expect(parseComposeArgs(line.split(" "))).toMatchObject(expected);
  });
});
