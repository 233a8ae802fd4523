// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// #27's "done when" with the API in Compose, on the real Docker Engine through the compiled
// portctl: in two worktrees of one repository, `portctl run -- docker-compose up -d` starts an
// API (busybox httpd), a database stand-in on 5432 and a server that speaks first. portctl asks
// each started port once: the API answers HTTP, so it is marked, gets its URL and says it on its
// line; the database port is never asked (the stand-in would answer HTTP, and still gets no
// URL) and the greeter is not HTTP. A dev server started afterwards with `portctl run` in the
// same worktree gets API_URL, the URL of its own checkout's API, which answers through the proxy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Allocation, Project } from "../../src/core/model.ts";
import type { Daemon } from "../helpers/daemon.ts";
import {
  composeProject,
  type DockerEngine,
  dockerEngine,
  type StackFixture,
  stackFixture,
  uniqueName,
} from "../helpers/docker.ts";
import { makeRepo } from "../helpers/git.ts";
import { killHard } from "../helpers/processes.ts";
import { bodyOf, get, statusOf } from "../helpers/proxy.ts";

const engine: DockerEngine | undefined = await dockerEngine();

let fx: StackFixture;
let daemon: Daemon;
let proxyPort = 0;
let image = "";
let parent = "";
const servers: Subprocess[] = [];

beforeAll(async () => {
  if (!engine) return;
  fx = await stackFixture("portctl-e2e-compose-urls-", {
    "greet.sh": "#!/bin/sh\necho 'SSH-2.0-greeter'\nsleep 5\n",
  });
  ({ daemon, image } = fx);
  proxyPort = ((await (await fetch(`${daemon.url}/healthz`)).json()) as { proxy: { port: number } })
    .proxy.port;
  parent = realpathSync(mkdtempSync(join(tmpdir(), "portctl-compose-urls-")));
}, 300_000);

afterAll(async () => {
  if (!engine) return;
  try {
    for (const s of servers) {
      s.kill("SIGINT");
      await Promise.race([s.exited, Bun.sleep(10_000)]);
      killHard(s.pid);
    }
    const projects = (await (await fetch(`${daemon.url}/v1/projects`)).json()) as Project[];
    for (const p of projects) await composeProject(p.checkout, { name: p.name });
  } finally {
    await fx?.close();
    rmSync(parent, { recursive: true, force: true });
  }
}, 300_000);

/** The stack: an API, a database (a stand-in that would answer HTTP too) and a greeter. */
const COMPOSE = () =>
  [
    "services:",
    "  api:",
    `    image: ${image}`,
    '    ports: ["127.0.0.1:${API_PORT:-18080}:80"]',
    '    environment: { CONTENT: "api of ${CHECKOUT_LABEL}" }',
    "  db:",
    `    image: ${image}`,
    '    command: ["httpd", "-f", "-p", "5432", "-h", "/www"]',
    '    ports: ["127.0.0.1:${DB_PORT:-15432}:5432"]',
    "  greeter:",
    `    image: ${image}`,
    '    command: ["nc", "-ll", "-p", "2222", "-e", "/bin/sh", "/www/greet.sh"]',
    '    ports: ["127.0.0.1:${GREETER_PORT:-12222}:2222"]',
    "",
  ].join("\n");

/** A dev server that shows the environment it was given. */
const SERVER = `require("node:http").createServer((req, res) => res.end(JSON.stringify({ api: process.env.API_URL ?? null, db: process.env.DB_URL ?? null, greeter: process.env.GREETER_URL ?? null }))).listen(Number(process.env.PORT), "127.0.0.1");\n`;

const portctlIn = (cwd: string, ...args: string[]) => fx.run(cwd, ...args);

async function rows(): Promise<Allocation[]> {
  return (await (await fetch(`${daemon.url}/v1/allocations`)).json()) as Allocation[];
}

test("after portctl run -- docker-compose up -d, the API has its URL and a dev server started afterwards gets it as API_URL", async () => {
  if (!engine) return;
  const app = uniqueName("shop");
  const repo = makeRepo(parent, app);
  const checkouts = [
    { dir: repo.main, label: "main", api: `api.${app}.localhost:${proxyPort}` },
    {
      dir: repo.worktree,
      label: "wt-feature",
      api: `api.wt-feature.${app}.localhost:${proxyPort}`,
    },
  ];
  for (const c of checkouts) {
    writeFileSync(join(c.dir, "docker-compose.yml"), COMPOSE());
    writeFileSync(join(c.dir, ".env"), `CHECKOUT_LABEL=${c.label}\n`);
    writeFileSync(join(c.dir, "server.js"), SERVER);
  }

  for (const c of checkouts) {
    const up = await portctlIn(c.dir, "run", "--", ...composeCommand(), "up", "-d");
    expect(`${up.code}\n${up.err}`).toStartWith("0\n");
    const api = (await rows()).find((r) => r.checkout === c.dir && r.service === "api");
    // The API's line says its URL (after Compose's own output, once it answered).
    expect(`${api?.url}\n${up.err}`).toStartWith(`http://${c.api}\n`);
    expect(up.err).toContain(`api → http://${c.api} (port ${api?.port})`);
    // The database and the greeter: a port, never an http:// URL.
    for (const service of ["db", "greeter"]) {
      const row = (await rows()).find((r) => r.checkout === c.dir && r.service === service);
      expect(row?.url ?? null).toBeNull();
      expect(up.err).toContain(`${service} → ${row?.port}\n`);
      expect(up.err).not.toContain(`${service} → http`);
    }
    // Its name answers through the proxy with this checkout's own API.
    expect(bodyOf(await get(proxyPort, c.api))).toContain(`api of ${c.label}`);
  }

  // A second `up -d`: the URL is known, and on the line from the start.
  const again = await portctlIn(repo.main, "run", "--", ...composeCommand(), "up", "-d");
  expect(again.code).toBe(0);
  const line = again.err.indexOf(`api → http://${checkouts[0]?.api} (port `);
  expect(line).toBeGreaterThanOrEqual(0);
  expect(line).toBeLessThan(again.err.indexOf("db → "));

  // The dev servers, started afterwards: each gets its own checkout's API_URL, nothing else.
  for (const c of checkouts) {
    const server = Bun.spawn([fx.portctl, "run", "--", "node", "server.js"], {
      cwd: c.dir,
      env: fx.env,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    servers.push(server);
    const web = c.api.replace(/^api\./, "web.");
    let text = "";
    for (let i = 0; i < 100 && statusOf(text) !== 200; i++) {
      await Bun.sleep(100);
      text = await get(proxyPort, web);
    }
    expect(JSON.parse(bodyOf(text))).toEqual({ api: `http://${c.api}`, db: null, greeter: null });
  }
}, 240_000);

test("a foreground up: the API's URL is said while Compose runs, and it is marked", async () => {
  if (!engine) return;
  const app = uniqueName("blog");
  mkdirSync(join(parent, "fg"));
  const repo = makeRepo(join(parent, "fg"), app);
  writeFileSync(join(repo.main, "docker-compose.yml"), COMPOSE());
  writeFileSync(join(repo.main, ".env"), "CHECKOUT_LABEL=fg\n");
  const up = Bun.spawn([fx.portctl, "run", "--", ...composeCommand(), "up"], {
    cwd: repo.main,
    env: fx.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  servers.push(up);
  let err = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of up.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  void new Response(up.stdout).text();
  const api = `api.${app}.localhost:${proxyPort}`;
  for (let i = 0; i < 600 && !err.includes(`api → http://${api} (port `); i++) await Bun.sleep(100);
  expect(err).toContain(`api → http://${api} (port `);
  expect((await rows()).find((r) => r.checkout === repo.main && r.service === "api")?.url).toBe(
    `http://${api}`,
  );
  expect(err).not.toContain("db → http");
  up.kill("SIGINT");
  expect(await up.exited).toBeGreaterThanOrEqual(0);
}, 180_000);

/** Debian's docker-compose 1.29 where it is, else the plugin. */
function composeCommand(): string[] {
  return engine?.compose[0] ?? ["docker", "compose"];
}
