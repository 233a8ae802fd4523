// The front page must not rot. Its five-minute tour is run as a new user would run it, against
// the compiled binaries, a real git, npm and a real Docker engine: in a repository named `shop`
// with a second worktree, every command of the tour in order (the dev servers stay up in the
// background, as in their own terminals), each `# →` line compared with what was printed (times
// aside, each port mapped to the one this run got: 3000, 5432 and 8080 are held by
// test/preload.ts, so the mapping is always exercised). Every portctl line also parses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { firstBindablePort, freePort } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  busyboxImage,
  cleanupDocker,
  composeProject,
  type DockerEngine,
  dockerEngine,
  uniqueName,
} from "../helpers/docker.ts";
import { git } from "../helpers/git.ts";
import {
  blocks,
  commandLines,
  normalise,
  PortMap,
  page,
  type Step,
  section,
  transcript,
} from "../helpers/markdown.ts";
import { parseCli } from "../helpers/parse.ts";
import { isAlive, killHard } from "../helpers/processes.ts";

const README = page("README.md");
const TOUR = section(README, "## A five-minute tour");

describe("README", () => {
  test("every portctl command line parses with the real CLI", () => {
    const lines = commandLines(README);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const argv of lines) expect(`${argv.join(" ")}: ${parseCli(argv)}`).toEndWith(": ok");
  });

  test("the tour: a dev server and a Compose stack in two worktrees, then list, ui, agents", () => {
    const commands = tourSteps().map((s) => s.command);
    for (const shown of [
      "portctl run -- npm run dev",
      "cd ~/src/shop && portctl run -- docker compose up -d",
      "cd ~/src/shop-feature && portctl run -- docker compose up -d",
      "portctl list",
      "portctl ui",
      "portctl skill install",
      "portctl mcp install --claude",
    ])
      expect(commands).toContain(shown);
    // The tour does not start the daemon again: `make start` under Install did.
    expect(commands.filter((c) => /portctl start|make start/.test(c))).toEqual([]);
  });

  test("is a front page: about 200 lines at most", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(210);
  });
});

describe("the tour, run", () => {
  let engine: DockerEngine | undefined;
  let home: TempHome;
  let bin = "";
  let env: Record<string, string>;
  const servers: Bun.Subprocess[] = [];
  const projects = new Map<string, string>();

  beforeAll(async () => {
    engine = await dockerEngine();
    bin = await builtBinaries();
    home = tempHome("port-server-tour-");
    const opener = join(home.root, "opener");
    mkdirSync(opener);
    // The desktop's browser opener, recording what portctl ui asked it to open.
    writeFileSync(join(opener, "xdg-open"), `#!/bin/sh\necho "$1" >> '${opener}/opened'\n`);
    writeFileSync(join(opener, "open"), `#!/bin/sh\necho "$1" >> '${opener}/opened'\n`);
    chmodSync(join(opener, "xdg-open"), 0o755);
    chmodSync(join(opener, "open"), 0o755);
    env = {
      ...home.env,
      PATH: `${bin}:${opener}:${process.env.PATH ?? ""}`,
      PORT_SERVER_ADDR: `127.0.0.1:${freePort()}`,
      // The README shows 3000 first; the first bindable port stands in (PortMap maps it back).
      PORT_SERVER_RANGE: `${firstBindablePort(3000)}-9999`,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      npm_config_update_notifier: "false",
      ...(engine ? { DOCKER_HOST: engine.host } : {}),
    };
    if (engine) await makeShop(join(home.root, "src", "shop"));
    const start = Bun.spawnSync(["portctl", "start"], { env, cwd: home.root });
    expect(start.stderr.toString()).toBe("");
    expect(start.exitCode).toBe(0);
  }, 180_000);

  afterAll(async () => {
    for (const s of servers) s.kill("SIGTERM");
    for (const s of servers) {
      await Promise.race([s.exited, Bun.sleep(5_000)]);
      if (isAlive(s.pid)) killHard(s.pid);
    }
    await cleanupDocker();
    Bun.spawnSync(["portctl", "stop"], { env, cwd: home.root });
    home.cleanup();
  }, 120_000);

  test("every command as shown, every output as shown", async () => {
    if (!engine) return; // dockerEngine() said why (a failure under CI=true)
    const ports = new PortMap();
    ports.pin(env.PORT_SERVER_ADDR?.split(":")[1] ?? "", "51234");
    let cwd = home.root;
    for (const step of tourSteps()) {
      for (const part of step.command.split(/\s*&&\s*/)) {
        const expected = part === step.command.split(/\s*&&\s*/).at(-1) ? step.expected : [];
        const cd = /^cd (\S+)$/.exec(part)?.[1];
        if (cd) cwd = resolve(cwd, cd.replace(/^~/, home.root));
        else if (/^portctl run -- npm /.test(part)) await devServer(part, cwd, expected, ports);
        else if (/^portctl run -- docker compose /.test(part))
          await compose(part, cwd, expected, ports);
        else if (part.startsWith("portctl ")) exact(part, cwd, expected, ports);
        else shell(part, cwd, expected);
      }
    }
    // What the commands without shown output did.
    expect(readFileSync(join(home.root, "opener", "opened"), "utf8").trim()).toBe(
      `http://${env.PORT_SERVER_ADDR}/`,
    );
    // In the worktree the tour was last in.
    expect(cwd).toBe(join(home.root, "src", "shop-feature"));
    expect(existsSync(join(cwd, ".claude/skills/port-manager/SKILL.md"))).toBe(true);
    expect(JSON.parse(readFileSync(join(cwd, ".mcp.json"), "utf8")).mcpServers).toHaveProperty(
      "port-server",
    );
  }, 240_000);

  /** The repository of the tour: package.json's dev server, the README's compose.yaml, one commit. */
  async function makeShop(dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true });
    git(dir, "init", "-q", "-b", "main");
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify({ name: "shop", private: true, scripts: { dev: "node server.mjs" } }, null, 2)}\n`,
    );
    writeFileSync(
      join(dir, "server.mjs"),
      'import { createServer } from "node:http";\n' +
        'createServer((_, res) => res.end("shop on " + process.env.PORT)).listen(Number(process.env.PORT));\n',
    );
    // The README's file, with an image this machine has: busybox httpd on postgres's port.
    const [yaml = ""] = blocks(TOUR, "yaml");
    const image = await busyboxImage();
    const file = yaml.replace(
      /^(\s+)image: postgres:16$/m,
      `$1image: ${image}\n$1command: ["httpd", "-f", "-p", "5432", "-h", "/www"]`,
    );
    expect(file).toContain(image);
    writeFileSync(join(dir, "compose.yaml"), file);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "shop");
  }

  /** `portctl run -- npm run dev`, left running: its line is awaited, then the server asked. */
  async function devServer(command: string, cwd: string, expected: string[], ports: PortMap) {
    const proc = Bun.spawn(command.split(" "), { cwd, env, stdout: "pipe", stderr: "pipe" });
    servers.push(proc);
    const [shown = ""] = expected;
    let err = "";
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    const deadline = Date.now() + 30_000;
    // `→ http://web.shop.localhost:2080 (port 3000)`: the name through the daemon's proxy.
    while (!/→ http:\/\/\S+ \(port \d+\)\n/.test(err) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      err += decoder.decode(value);
    }
    reader.releaseLock();
    const line = err.split("\n").find((l) => l.includes(" → http://")) ?? err;
    ports.learn(/(?:\.localhost:|\(port )(\d+)/g, shown, line);
    expect(ports.toShown(normalise(line))).toEqual(normalise(shown));
    const port = /\(port (\d+)\)/.exec(line)?.[1];
    let answer = "";
    const until = Date.now() + 20_000;
    while (!answer && Date.now() < until) {
      answer = await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.text())
        .catch(() => "");
      if (!answer) await Bun.sleep(100);
    }
    expect(answer).toBe(`shop on ${port}`);
  }

  /** `portctl run -- docker compose up -d`: with `docker-compose` where that is what is installed. */
  async function compose(command: string, cwd: string, expected: string[], ports: PortMap) {
    const tool = engine?.compose.find((c) => c.join(" ") === "docker compose") ??
      engine?.compose[0] ?? ["docker", "compose"];
    const argv = command.replace("docker compose", tool.join(" ")).split(" ");
    // One project per worktree, under a unique name, brought down after.
    let name = projects.get(cwd);
    if (!name) {
      name = uniqueName("pst-tour");
      projects.set(cwd, name);
      await composeProject(cwd, { name, command: tool });
    }
    const res = Bun.spawnSync(argv, {
      cwd,
      env: { ...env, COMPOSE_PROJECT_NAME: name },
      timeout: 120_000,
    });
    const out = `${res.stdout}${res.stderr}`;
    expect(`${argv.join(" ")}: exit ${res.exitCode} ${out}`).toStartWith(
      `${argv.join(" ")}: exit 0`,
    );
    // portctl's own lines, in order, among Compose's.
    const mine = out.split("\n").filter((l) => /^\S+ → \d+$/.test(l));
    ports.learn(/→ (\d+)/g, expected.join("\n"), mine.join("\n"));
    expect(ports.toShown(mine)).toEqual(expected);
  }

  /** A portctl command whose whole output the tour shows. */
  function exact(command: string, cwd: string, expected: string[], ports: PortMap) {
    const res = Bun.spawnSync(command.split(" "), { cwd, env, timeout: 20_000 });
    const out = `${res.stdout}${res.stderr}`.trimEnd();
    expect(`${command}: exit ${res.exitCode}`).toBe(`${command}: exit 0`);
    if (expected.length)
      expect(ports.toShown(normalise(out))).toEqual(normalise(expected.join("\n")));
  }

  /** Anything else the tour types (`git worktree add …`), through a shell. */
  function shell(command: string, cwd: string, expected: string[]) {
    const res = Bun.spawnSync(["sh", "-c", command], { cwd, env, stderr: "pipe", stdout: "pipe" });
    expect(`${command}: exit ${res.exitCode} ${res.stderr}`).toStartWith(`${command}: exit 0`);
    expect(expected).toEqual([]);
  }
});

// --- internal ---

function tourSteps(): Step[] {
  return blocks(TOUR).flatMap((b) => transcript(b));
}
