// Who holds a port, against the real Docker Engine: a container the registry does not know is
// named by check, allocate, /v1/listeners and the MCP check tool, refused by scan --register
// (unless it is the scanned checkout's own Compose stack) and skipped by auto-assign; prune
// keeps a deleted checkout's port while a container publishes it. The engine's labels are
// anybody's text: escaped on a terminal. No engine, or a silent one: the process name, as before.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { callTool } from "../../src/cli/mcp/dispatch.ts";
import { TOOLS } from "../../src/cli/mcp/tools.ts";
import { type CliFixture, cliFixture, freePort, runWith } from "../helpers/cli.ts";
import { startDaemon, tempHome } from "../helpers/daemon.ts";
import {
  busyboxImage,
  cleanupDocker,
  composeProject,
  docker,
  dockerEngine,
  hostPort,
  httpText,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";

const engine = await dockerEngine();
const suite = engine ? describe : describe.skip;

let fx: CliFixture;
let image: string;
beforeAll(async () => {
  if (!engine) return;
  image = await busyboxImage();
  fx = await cliFixture("shop");
}, 120_000);
afterAll(async () => {
  if (!engine) return;
  await cleanupDocker();
  await fx?.close();
});

/** A container labelled as Compose's service `db` of project `project` in folder `dir`. */
async function composeLike(project: string, dir: string, extra: Record<string, string> = {}) {
  const c = await runContainer({
    image,
    ports: [80],
    name: uniqueName("shop-db"),
    env: { CONTENT: project },
    labels: {
      "com.docker.compose.project": project,
      "com.docker.compose.project.working_dir": dir,
      "com.docker.compose.service": "db",
      ...extra,
    },
  });
  return { ...c, port: c.ports.get(80) as number };
}

suite("a container the registry does not know", () => {
  test("check and allocate name it; --json has its fields; /v1/listeners and MCP too", async () => {
    const dir = join(fx.home.root, "work", "shop");
    const c = await composeLike("shop", dir);
    await httpText(c.port);
    const line = `port ${c.port} is in use by container ${c.name} (Compose project shop, ~/work/shop), not registered`;

    expect(await fx.run(["check", "--port", String(c.port)])).toEqual({
      code: 1,
      out: [line],
      err: [],
    });
    const json = await fx.run(["check", "--port", String(c.port), "--json"]);
    expect(JSON.parse(json.out.join("\n")).system).toMatchObject({
      in_use: true,
      process: expect.stringMatching(/^(docker-proxy|dockerd|rootlesskit|rootlessport)$/),
      container: { id: c.id, name: c.name, project: "shop", working_dir: dir, service: "db" },
    });
    const alloc = await fx.run(["allocate", "--service", "db", "--port", String(c.port)]);
    expect(alloc).toEqual({ code: 1, out: [], err: [`error: ${line}`] });
    expect(await fx.allocations()).toEqual([]);

    const listeners =
      await fx.api<{ port: number; container?: { name: string } }[]>("/v1/listeners");
    expect(listeners.find((l) => l.port === c.port)?.container?.name).toBe(c.name);

    // MCP's check: the same line as its summary, the container in the data.
    const tool = TOOLS.find((t) => t.name === "check");
    if (!tool) throw new Error("no check tool");
    const mcp = await callTool(tool, { port: c.port }, fx.io());
    expect(mcp.isError).toBeUndefined();
    expect(mcp.structuredContent).toMatchObject({
      available: false,
      system: { container: { name: c.name, project: "shop" } },
      summary: line,
    });
    // An allocation refused by the container: the tool's error is the CLI's line.
    const refused = TOOLS.find((t) => t.name === "allocate");
    if (!refused) throw new Error("no allocate tool");
    const err = await callTool(
      refused,
      { service: "db", port: c.port, directory: fx.cwd },
      fx.io(),
    );
    expect(err).toMatchObject({ isError: true, content: [{ type: "text" }] });
    expect(JSON.stringify(err.content)).toContain(
      `in use by container ${c.name} (Compose project shop`,
    );
  }, 60_000);

  test("auto-assign skips it: the only other port of the range is handed out", async () => {
    const c = await composeLike("other", "/nonexistent/other");
    const home = tempHome("pst-range-");
    const daemon = await startDaemon({ home, args: ["--range", `${c.port}-${c.port + 1}`] });
    try {
      const run = await runWith(["allocate", "--json", "--service", "web"], {
        env: { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` },
        cwd: home.root,
        home: home.root,
      });
      const again = await runWith(["allocate", "--json", "--service", "api"], {
        env: { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` },
        cwd: home.root,
        home: home.root,
      });
      // The second port may be taken by something else on a busy machine; never the container's.
      if (run.code === 0) expect(JSON.parse(run.out.join("\n")).port).toBe(c.port + 1);
      else expect(run.err.join("")).toMatch(/no free port/);
      expect(again.code).toBe(1);
    } finally {
      await daemon.stop();
      home.cleanup();
    }
  }, 60_000);

  test("scan --register refuses a stranger's container, naming it, and records its own stack's", async () => {
    const own = join(fx.home.root, "stacks", "mine");
    const stranger = join(fx.home.root, "stacks", "theirs");
    for (const d of [own, stranger]) mkdirSync(d, { recursive: true });
    const c = await composeLike("mine", own);
    const compose = `services:\n  db:\n    image: x\n    ports:\n      - "${c.port}:80"\n`;
    for (const d of [own, stranger]) writeFileSync(join(d, "compose.yaml"), compose);

    // allocate suggests --adopt for the checkout's own container only.
    const argv = ["allocate", "--service", "db", "--port", String(c.port)];
    const hinted = await fx.run(argv, { cwd: own });
    expect(hinted.err).toEqual([
      `error: port ${c.port} is in use by container ${c.name} (Compose project mine, ~/stacks/mine), not registered — if it is db's own server, pass --adopt to register it`,
    ]);
    expect((await fx.run(argv, { cwd: stranger })).err[0]).toEndWith(", not registered");

    const refused = await fx.run(["scan", "--register", stranger]);
    expect(refused.code).toBe(1);
    expect(refused.out).toEqual([
      `conflict: port ${c.port} for theirs/default/db  [compose.yaml:5]: port ${c.port} is in use by container ${c.name} (Compose project mine, ~/stacks/mine), not registered`,
    ]);
    expect(await fx.allocations()).toEqual([]);

    const recorded = await fx.run(["scan", "--register", own]);
    expect(recorded.code).toBe(0);
    expect(recorded.out).toEqual([
      expect.stringMatching(
        new RegExp(
          `^registered port ${c.port} \\(id=\\d+\\) for mine/default/db  \\[compose.yaml:5\\]; listening now by container ${c.name} \\(Compose project mine, ~/stacks/mine\\)$`,
        ),
      ),
    ]);
    const checked = await fx.run(["check", "--port", String(c.port)]);
    expect(checked.out).toEqual([
      expect.stringMatching(
        new RegExp(
          `^port ${c.port} is allocated to mine/default/db \\(id=\\d+\\), published by container ${c.name} \\(Compose project mine, ~/stacks/mine\\)$`,
        ),
      ),
    ]);
    // list -l says whose it is; the short list only that something listens.
    const long = await fx.run(["list", "--all", "-l"]);
    expect(long.out[1]).toContain(`yes: container ${c.name} (Compose project mine, ~/stacks/mine)`);
    expect((await fx.run(["list", "--all"])).out[1]).toMatch(/ yes$/);
    // Scanned again, with the stack still up: already registered, not a conflict.
    expect((await fx.run(["scan", "--register", own])).out[0]).toStartWith("already registered");

    // The checkout is deleted while its container still runs: prune keeps the port, says why.
    rmSync(own, { recursive: true, force: true });
    const dry = await fx.run(["prune"]);
    expect(dry.code).toBe(0);
    const row = dry.out.find((l) => l.includes(` ${c.port} `));
    expect(row).toMatch(/^KEPT /);
    expect(row).toContain(`checkout gone, but still published by container ${c.name}`);
    expect(dry.out.at(-1)).toBe("nothing would be released: the port is still in use");
    await fx.run(["prune", "--yes"]);
    expect((await fx.allocations()).map((a) => a.port)).toEqual([c.port]);

    await docker("rm", "-f", c.name);
    const after = await fx.run(["prune", "--yes"]);
    expect(after.out).toEqual([
      expect.stringMatching(
        new RegExp(`^released port ${c.port} \\(id=\\d+\\) of mine/default/db: `),
      ),
    ]);
    expect(await fx.allocations()).toEqual([]);
  }, 90_000);

  test("run: a container on the service's registered port is named, with how to move, and nothing starts", async () => {
    const port = freePort();
    expect(
      (await fx.run(["allocate", "-q", "--service", "web", "--port", String(port)])).code,
    ).toBe(0);
    const c = await runContainer({
      image,
      ports: [80],
      hostPorts: [port],
      name: uniqueName("squatter"),
    });
    const marker = join(fx.home.root, `started-${c.name}`);
    const r = await fx.run(["run", "--service", "web", "--", "touch", marker], {
      env: { ...fx.env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `error: port ${port} (shop/default/web) is already in use by container ${c.name}: not this checkout's dev server; stop it, or move this service: portctl release --service web --instance default, then run again for another port`,
      ],
    });
    expect(existsSync(marker)).toBe(false);
  });

  test("hostile labels reach the terminal escaped, and --json exactly", async () => {
    const project = "shop\u001b]0;PWNED\u0007\u202eexe.txt";
    const dir = "/srv/\u001b[31mred\r\nFAKE LINE";
    const c = await composeLike(project, dir);
    const run = await fx.run(["check", "--port", String(c.port)]);
    expect(run.out).toEqual([
      `port ${c.port} is in use by container ${c.name} (Compose project shop\\x1b]0;PWNED\\x07\\u202eexe.txt, /srv/\\x1b[31mred\\x0d\\x0aFAKE LINE), not registered`,
    ]);
    const json = JSON.parse(
      (await fx.run(["check", "--port", String(c.port), "--json"])).out.join("\n"),
    );
    expect(json.system.container).toMatchObject({ project, working_dir: dir });
  }, 60_000);
});

suite("a Compose stack", () => {
  test("check names its container with the project and folder Compose recorded", async () => {
    const dir = join(fx.home.root, "work", "blog");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "docker-compose.yml"),
      `version: "3.7"\nservices:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1::80"\n`,
    );
    const project = await composeProject(dir);
    const up = await project.run("up", "-d");
    expect(up.code).toBe(0);
    const ps = await docker(
      "ps",
      "-q",
      "--filter",
      `label=com.docker.compose.project=${project.name}`,
    );
    const id = ps.stdout.trim();
    const name = (await docker("inspect", "-f", "{{.Name}}", id)).stdout.trim().replace(/^\//, "");
    const port = await hostPort(id, 80);
    expect(await fx.run(["check", "--port", String(port)])).toEqual({
      code: 1,
      out: [
        `port ${port} is in use by container ${name} (Compose project ${project.name}, ~/work/blog), not registered`,
      ],
      err: [],
    });
  }, 90_000);
});

suite("without an engine's answer: the process, as before", () => {
  test("no engine at DOCKER_HOST, or one that never answers: docker-proxy by pid", async () => {
    const c = await composeLike("shop", "/srv/shop");
    const home = tempHome("pst-noengine-");
    const silentPath = join(home.root, "silent.sock");
    const silent = Bun.listen({ unix: silentPath, socket: { data() {} } });
    try {
      for (const host of [`unix://${join(home.root, "none.sock")}`, `unix://${silentPath}`]) {
        const daemon = await startDaemon({ home, env: { DOCKER_HOST: host } });
        try {
          const run = await runWith(["check", "--port", String(c.port)], {
            env: { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` },
            cwd: home.root,
            home: home.root,
          });
          expect(run.out).toEqual([
            expect.stringMatching(
              new RegExp(
                `^port ${c.port} is in use on this machine by (docker-proxy|dockerd|rootlesskit|rootlessport) \\(pid \\d+\\), not registered$`,
              ),
            ),
          ]);
        } finally {
          await daemon.stop();
        }
      }
    } finally {
      silent.stop(true);
      home.cleanup();
    }
  }, 60_000);
});
