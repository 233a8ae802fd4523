// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// #28's first story on the real engine: two developers on one machine clone the same
// repository, so both have app `shop`, and both bring its Compose stack up through portctl.
// Alice runs the registry (this test's user); bob is a real user made for the test, in the
// group of the Docker socket as a developer on a shared host is. Each gets shop/main/web of
// their own on a port of their own; the Compose project name, one per engine, is alice's
// `shop-…` and bob's `shop-…-<bob>`; each container serves its own user's content; bob's output
// never names alice's folder. Skipped without an engine or where no user can be made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation, Project } from "../../src/core/model.ts";
import {
  composeProject,
  type DockerEngine,
  dockerEngine,
  exec,
  httpText,
  type StackFixture,
  stackFixture,
} from "../helpers/docker.ts";
import { canMakeUsers, makeUser, shareExecutable, type TestUser } from "../helpers/users.ts";

const engine: DockerEngine | undefined = await dockerEngine();
const socket = engine?.host.startsWith("unix://") ? engine.host.slice("unix://".length) : "";

let fx: StackFixture;
let bob: TestUser;
let portctl: { path: string; remove(): void };
const repo = `shop-${crypto.getRandomValues(new Uint32Array(1))[0]?.toString(36)}`;

describe.skipIf(!engine || !socket || !canMakeUsers())(
  "two users' clones of one repository",
  () => {
    let aliceDir: string;
    let bobDir: string;

    beforeAll(async () => {
      fx = await stackFixture("port-server-users-stacks-");
      bob = makeUser();
      portctl = shareExecutable(fx.portctl);
      aliceDir = join(fx.home.root, "alice", repo);
      bobDir = join(bob.home, repo);
      const compose = [
        "services:",
        "  web:",
        `    image: ${fx.image}`,
        "    environment:",
        '      CONTENT: "${WHO:-nobody}"',
        "    ports:",
        `      - "127.0.0.1:\${WEB_PORT:-${freePort()}}:80"`,
        "",
      ].join("\n");
      for (const dir of [aliceDir, bobDir]) {
        mkdirSync(join(dir, ".git"), { recursive: true });
        writeFileSync(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
        writeFileSync(join(dir, "docker-compose.yml"), compose);
      }
      for (const path of [bobDir, join(bobDir, ".git"), join(bobDir, ".git", "HEAD")]) {
        chownSync(path, bob.uid, bob.gid);
      }
      chownSync(join(bobDir, "docker-compose.yml"), bob.uid, bob.gid);
    }, 180_000);

    afterAll(async () => {
      // Every project the registry recorded (the admin sees them all) is brought down.
      const res = await fetch(`${fx.daemon.url}/v1/projects`);
      for (const p of (await res.json()) as Project[]) {
        await composeProject(p.checkout, { name: p.name });
      }
      await fx?.close();
      bob?.remove();
      portctl?.remove();
    }, 120_000);

    test("both up: each their own shop/main/web, port, project name and containers", async () => {
      const alice = await exec([fx.portctl, "run", "--", "docker-compose", "up", "-d"], {
        cwd: aliceDir,
        env: { ...fx.env, WHO: "alice" },
      });
      expect({ code: alice.code, err: alice.stderr }).toMatchObject({ code: 0 });
      const up = await bob.run([portctl.path, "run", "--", "docker-compose", "up", "-d"], {
        cwd: bobDir,
        env: {
          PORT_SERVER_ADDR: fx.env.PORT_SERVER_ADDR as string,
          DOCKER_HOST: fx.env.DOCKER_HOST as string,
          WHO: "bob",
          NO_COLOR: "1",
        },
        groups: [statSync(socket).gid],
        timeoutMs: 120_000,
      });
      expect({ code: up.code, err: up.stderr }).toMatchObject({ code: 0 });
      expect(up.stderr).toContain(`this checkout's stack is ${repo}-${bob.name}`);
      expect(up.stdout + up.stderr).not.toContain(aliceDir);

      const all = (await (await fetch(`${fx.daemon.url}/v1/allocations`)).json()) as Allocation[];
      const web = all.filter((a) => a.app === repo && a.service === "web");
      expect(web.map((a) => [a.instance, a.owner ?? "alice", a.name])).toEqual([
        ["main", "alice", `web.${repo}.localhost`],
        ["main", bob.name, `web.${repo}.${bob.name}.localhost`],
      ]);
      const [hers, his] = web as [Allocation, Allocation];
      expect(hers.port).not.toBe(his.port);
      expect(await httpText(hers.port)).toBe("alice\n");
      expect(await httpText(his.port)).toBe("bob\n");

      const projects = (await (await fetch(`${fx.daemon.url}/v1/projects`)).json()) as Project[];
      expect(projects.map((p) => [p.name, p.checkout, p.owner ?? "alice"])).toEqual([
        [repo, aliceDir, "alice"],
        [`${repo}-${bob.name}`, bobDir, bob.name],
      ]);
      // Bob, by name, sees his own; alice's stack only as another user's port.
      const env = await bob.run([portctl.path, "env"], {
        cwd: bobDir,
        env: { PORT_SERVER_ADDR: fx.env.PORT_SERVER_ADDR as string },
      });
      expect(env.stdout).toContain(`WEB_PORT=${his.port}`);
      expect(env.stdout).toContain(`COMPOSE_PROJECT_NAME=${repo}-${bob.name}`);
      expect(env.stdout).not.toContain(String(hers.port));
    }, 240_000);
  },
);

// --- internal ---

/** A port free a moment ago: the file's default, never a fixed number a busy machine may hold. */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}
