// `portctl run -- docker-compose config` with Debian's real docker-compose (it renders a file
// without a daemon): two checkouts publish different host ports, the first keeps the file's
// default, a literal host port is named with its fix, and without portctl nothing changes.
import { afterEach, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isComposeCommand, loadStack, stackPorts } from "../../src/cli/run/compose.ts";
import { type CliFixture, cliFixture, freePort } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";

// Each test starts several real processes (portctl, a daemon, a server): 5 s is tight under load.
setDefaultTimeout(30_000);

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
const compose = Bun.which("docker-compose");

let f: CliFixture;
let preferred = 0;
beforeEach(async () => {
  f = await cliFixture("shop");
  preferred = freePort();
  const file = [
    "services:",
    "  postgres:",
    "    image: postgres",
    "    ports:",
    `      - "\${POSTGRES_PORT:-${preferred}}:5432"`,
    "  redis:",
    "    image: redis",
    "    ports:",
    '      - "6379:6379"',
    "",
  ].join("\n");
  writeFileSync(join(f.cwd, "docker-compose.yml"), file);
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

async function run(argv: string[], env: Record<string, string> = f.env as Record<string, string>) {
  const proc = Bun.spawn(argv, {
    cwd: f.cwd,
    // `config` needs no engine; portctl's look at one would see this machine's own stacks.
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DOCKER_HOST: `unix://${join(f.home.root, "no-engine.sock")}`,
      ...env,
    } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
  ];
  return { code: await proc.exited, out, err };
}

const published = (config: string) =>
  [...config.matchAll(/published: (\d+)/g)].map((m) => Number(m[1]));

test.skipIf(!compose)(
  "two checkouts publish different host ports; defaults unchanged without portctl",
  async () => {
    const a = await run([
      process.execPath,
      MAIN,
      "run",
      "--instance",
      "a",
      "--",
      "docker-compose",
      "config",
    ]);
    const b = await run([
      process.execPath,
      MAIN,
      "run",
      "--instance",
      "b",
      "--",
      "docker-compose",
      "config",
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const rows = await f.allocations();
    const portOf = (instance: string) => rows.find((r) => r.instance === instance)?.port;
    expect(rows.map((r) => `${r.instance}/${r.service}`)).toEqual(["a/postgres", "b/postgres"]);
    // The first checkout keeps the file's number; the second gets another one.
    expect(portOf("a")).toBe(preferred);
    expect(portOf("b")).not.toBe(preferred);
    expect(published(a.out)).toEqual([preferred, 6379]);
    expect(published(b.out)).toEqual([portOf("b") as number, 6379]);
    expect(a.err).toBe(
      `postgres → ${preferred}\nredis: host port 6379 is written as a number (docker-compose.yml:9) and cannot be moved; portctl scan --fix makes it \${REDIS_PORT:-6379}\n`,
    );
    // A second run of the same checkout reuses its port.
    const again = await run([
      process.execPath,
      MAIN,
      "run",
      "--instance",
      "b",
      "--",
      "docker-compose",
      "config",
    ]);
    expect(published(again.out)).toEqual(published(b.out));
    expect(await f.allocations()).toHaveLength(2);
    // --lease: the stack's ports end with the run.
    const leased = await run([
      process.execPath,
      MAIN,
      "run",
      "--lease",
      "--instance",
      "c",
      "--",
      "docker-compose",
      "config",
    ]);
    expect(leased.code).toBe(0);
    expect(leased.err).toContain("(leased: released when this run ends)");
    expect((await f.allocations()).map((r) => r.instance)).toEqual(["a", "b"]);
    // Without port-server the file still works with its defaults.
    const plain = await run(["docker-compose", "config"], { HOME: f.home.root });
    expect(published(plain.out)).toEqual([preferred, 6379]);
  },
  60_000,
);

test("a stack with --service is refused before anything is allocated", async () => {
  // A fake `docker` on PATH: the refusal must come before it would run.
  const bin = join(f.home.root, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "docker"), "#!/bin/sh\necho ran\n");
  chmodSync(join(bin, "docker"), 0o755);
  const env = {
    ...(f.env as Record<string, string>),
    PATH: `${bin}:${process.env.PATH}`,
  };
  const refused = await run(
    [process.execPath, MAIN, "run", "--service", "x", "--", "docker", "compose", "up"],
    env,
  );
  expect(refused.code).toBe(1);
  expect(refused.out).toBe("");
  expect(refused.err).toContain("--service and --env do not apply to a Compose stack");
  expect(await f.allocations()).toEqual([]);
});

test("which commands are a Compose stack", () => {
  const yes = ["docker compose up", "docker --context x compose up -d", "docker-compose up"];
  const also = ["podman compose up", "podman-compose up", "/usr/bin/docker-compose up"];
  for (const cmd of [...yes, ...also]) expect(isComposeCommand(cmd.split(" "))).toBe(true);
  for (const cmd of ["docker run -p 80:80 nginx", "docker", "vite", "npm run compose"])
    expect(isComposeCommand(cmd.split(" "))).toBe(false);
});

test("stackPorts: one entry per variable, literals named, scan's service names; -f honoured", () => {
  copyFileSync(
    join(import.meta.dir, "../fixtures/run-compose/other.yml"),
    join(f.cwd, "other.yml"),
  );
  writeFileSync(join(f.cwd, ".env"), "WEB_PORT=8181\n");
  const project = loadStack(["docker", "compose", "-f", "other.yml", "up"], f.cwd, {});
  expect(stackPorts(project, (p) => p.slice(f.cwd.length + 1))).toEqual([
    {
      service: "web",
      variable: "WEB_PORT",
      preferred: 8181,
      source: "other.yml:5",
      profiles: [],
      target: 80,
      protocol: "tcp",
    },
    { service: "web-443", preferred: 8443, source: "other.yml:6", profiles: [] },
  ]);
  expect(() => loadStack(["docker", "compose", "-f", "missing.yml", "up"], f.cwd, {})).toThrow(
    "missing.yml",
  );
});
