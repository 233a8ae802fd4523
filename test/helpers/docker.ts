// A real Docker Engine for the tests that need one: is an engine answering (DOCKER_HOST, else
// /var/run/docker.sock), a tiny web-server image built FROM scratch with Debian's static busybox
// (no registry is reachable), containers and Compose projects under unique names, and removal
// of everything a test file created. Where no engine answers the tests skip with one printed
// line, except under CI=true, where a missing engine is a failure (.ci/run starts one).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { builtBinaries } from "./binaries.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "./daemon.ts";

export interface DockerEngine {
  /** The engine's Unix socket. */
  socket: string;
  /** DOCKER_HOST for child processes (docker, docker-compose) that must reach the same engine. */
  host: string;
  /** The Compose commands installed: `docker-compose` (1.29 on Debian) and/or `docker compose`. */
  compose: string[][];
}

export interface Published {
  /** The container's id and name. */
  id: string;
  name: string;
  /** Container port (e.g. 80) → the host port Docker published it on (127.0.0.1). */
  ports: Map<number, number>;
}

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

const BUSYBOX = "/usr/bin/busybox";
const PING_MS = 2_000;

/**
 * The engine, or undefined (after saying so once) when the docker tests must be skipped.
 * Throws under CI=true when there is none: CI must run them.
 */
export async function dockerEngine(): Promise<DockerEngine | undefined> {
  cachedEngine ??= findEngine();
  return cachedEngine;
}

/** A unique lowercase name for containers, projects and tags: `<prefix>-<random>`. */
export function uniqueName(prefix = "pst"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * The tag of an image FROM scratch holding busybox (every applet under /bin) that serves /www
 * on port 80 with `busybox httpd -f`: `files` (path under /www → content) are baked in, and
 * `$CONTENT`, when set in the container's environment, replaces /www/index.html at start, so one
 * image serves every test. Built once per content (tagged by its hash, so a second run reuses
 * it); STOPSIGNAL SIGKILL, as httpd as PID 1 ignores SIGTERM and every stop would wait 10 s.
 */
export async function busyboxImage(files: Record<string, string> = {}): Promise<string> {
  const engine = await requireEngine();
  const hash = createHash("sha256").update(readFileSync(BUSYBOX));
  for (const [path, content] of Object.entries(files).sort()) hash.update(`${path}\0${content}\0`);
  const tag = `port-server-test-busybox:${hash.update(DOCKERFILE).digest("hex").slice(0, 16)}`;
  let built = images.get(tag);
  if (!built) {
    built = buildImage(engine, tag, files);
    images.set(tag, built);
  }
  await built;
  return tag;
}

/**
 * `docker run -d` of `image` with `ports` (container ports) published on 127.0.0.1 at ports the
 * kernel picks (or `hostPorts[i]` when given); removed by cleanupDocker().
 */
export async function runContainer(opts: {
  image: string;
  ports: number[];
  hostPorts?: number[];
  name?: string;
  labels?: Record<string, string>;
  env?: Record<string, string>;
}): Promise<Published> {
  const name = opts.name ?? uniqueName("pst-c");
  const args = ["run", "-d", "--name", name];
  opts.ports.forEach((p, i) => {
    args.push("-p", `127.0.0.1:${opts.hostPorts?.[i] ?? ""}:${p}`);
  });
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push("--label", `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push("-e", `${k}=${v}`);
  containers.add(name);
  const run = await docker(...args, opts.image);
  if (run.code !== 0) throw new Error(`docker run failed: ${run.stderr.trim()}`);
  const ports = new Map<number, number>();
  for (const p of opts.ports) ports.set(p, await hostPort(name, p));
  return { id: run.stdout.trim(), name, ports };
}

/** The host port Docker published `containerPort/tcp` of a container on. */
export async function hostPort(container: string, containerPort: number): Promise<number> {
  const res = await docker("port", container, `${containerPort}/tcp`);
  const port = Number(/:(\d+)\s*$/m.exec(res.stdout)?.[1]);
  if (res.code !== 0 || !port) throw new Error(`docker port ${container}: ${res.stderr.trim()}`);
  return port;
}

/** Runs the docker CLI against the engine; never throws on a non-zero exit. */
export async function docker(...args: string[]): Promise<Exec> {
  const engine = await requireEngine();
  return exec(["docker", ...args], { env: { DOCKER_HOST: engine.host } });
}

/**
 * A Compose project under a unique name in `dir`: `run(...args)` is `<compose> -p <name> ...`
 * there; every project is brought down (`down -v`, volumes included) by cleanupDocker().
 * `command` picks the Compose (default: the first installed, `docker-compose` here).
 */
export async function composeProject(
  dir: string,
  opts: { command?: string[]; name?: string; env?: Record<string, string> } = {},
): Promise<{ name: string; run(...args: string[]): Promise<Exec> }> {
  const engine = await requireEngine();
  const command = opts.command ?? engine.compose[0];
  if (!command) throw new Error("no Compose installed (apt-get install -y docker-compose)");
  const name = opts.name ?? uniqueName("pst-p");
  const env = { DOCKER_HOST: engine.host, ...opts.env };
  const run = (...args: string[]) => exec([...command, "-p", name, ...args], { cwd: dir, env });
  projects.push({ down: () => run("down", "-v", "--remove-orphans", "-t", "0") });
  return { name, run };
}

/**
 * Removes what this process created: Compose projects (down -v), then containers. Images are
 * kept: tagged by content, the next run reuses them. Call it in afterAll.
 */
export async function cleanupDocker(): Promise<void> {
  for (const p of projects.splice(0)) await p.down();
  const names = [...containers];
  containers.clear();
  if (names.length) await docker("rm", "-f", "-v", ...names);
}

/** Runs a command; the environment is the test's plus `env`. Never throws on a non-zero exit. */
export async function exec(
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Exec> {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** GETs `http://127.0.0.1:<port>/<path>` until it answers 200 (a container takes a moment). */
export async function httpText(port: number, path = "/", timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (res.ok) return await res.text();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`port ${port} never answered 200 on ${path}`);
    await Bun.sleep(100);
  }
}

// --- internal ---

const DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
SHELL ["/bin/busybox", "sh", "-c"]
RUN /bin/busybox --install -s /bin && mkdir -p /www /tmp
COPY www /www
EXPOSE 80
STOPSIGNAL SIGKILL
CMD ["/bin/sh", "-c", "if [ -n \\"$CONTENT\\" ]; then echo \\"$CONTENT\\" > /www/index.html; fi; exec httpd -f -p 80 -h /www"]
`;

let cachedEngine: Promise<DockerEngine | undefined> | undefined;
const images = new Map<string, Promise<void>>();
const containers = new Set<string>();
const projects: { down(): Promise<Exec> }[] = [];

async function requireEngine(): Promise<DockerEngine> {
  const engine = await dockerEngine();
  if (!engine) throw new Error("no Docker Engine: guard the test with dockerEngine()");
  return engine;
}

async function findEngine(): Promise<DockerEngine | undefined> {
  // A CI leg where no engine can run (GitHub's macOS runners) says so, and skips them.
  const off = process.env.PORT_SERVER_TEST_NO_DOCKER;
  if (off) {
    console.log(`${off}: skipping the docker tests`);
    return undefined;
  }
  const fromEnv = process.env.DOCKER_HOST;
  const socket = fromEnv?.startsWith("unix://") ? fromEnv.slice(7) : "/var/run/docker.sock";
  let why: string | undefined;
  if (fromEnv && !fromEnv.startsWith("unix://")) why = `DOCKER_HOST=${fromEnv} is not unix://`;
  else if (!existsSync(socket)) why = `no engine socket at ${socket}`;
  else if (!(await pings(socket))) why = `the engine at ${socket} does not answer /_ping`;
  else if (!onPath("docker")) why = "no docker CLI (apt-get install -y docker.io)";
  const compose: string[][] = [];
  if (!why) {
    if (onPath("docker-compose")) compose.push(["docker-compose"]);
    if ((await exec(["docker", "compose", "version"])).code === 0)
      compose.push(["docker", "compose"]);
    if (compose.length === 0) why = "no Compose (apt-get install -y docker-compose)";
  }
  if (!why) return { socket, host: `unix://${socket}`, compose };
  if (process.env.CI === "true") throw new Error(`${why}: the docker tests must run in CI`);
  console.log(`${why}: skipping the docker tests`);
  return undefined;
}

async function pings(socket: string): Promise<boolean> {
  try {
    const res = await fetch("http://docker/_ping", {
      unix: socket,
      signal: AbortSignal.timeout(PING_MS),
    });
    return res.ok && (await res.text()) === "OK";
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  return Bun.which(command) !== null;
}

/** POST /build with a tar of the context: the API works alike with every docker CLI (buildx or not). */
async function buildImage(
  engine: DockerEngine,
  tag: string,
  files: Record<string, string>,
): Promise<void> {
  const known = await fetch(`http://docker/images/${tag}/json`, { unix: engine.socket });
  await known.arrayBuffer();
  if (known.ok) return;
  const root = mkdtempSync(join(tmpdir(), "pst-image-"));
  try {
    const dir = join(root, "context");
    const www = join(dir, "www");
    mkdirSync(www, { recursive: true });
    writeFileSync(join(dir, "Dockerfile"), DOCKERFILE);
    writeFileSync(join(dir, "busybox"), readFileSync(BUSYBOX), { mode: 0o755 });
    for (const [path, content] of Object.entries(files)) {
      const to = join(www, path);
      if (!to.startsWith(`${www}/`)) throw new Error(`file outside /www: ${path}`);
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, content);
    }
    const tarPath = join(root, "context.tar");
    const tar = await exec(["tar", "-C", dir, "-cf", tarPath, "."]);
    if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
    const res = await fetch(`http://docker/build?t=${encodeURIComponent(tag)}&rm=1&forcerm=1`, {
      method: "POST",
      unix: engine.socket,
      headers: { "content-type": "application/x-tar" },
      body: Bun.file(tarPath),
    });
    const log = await res.text();
    const error = /"error":\s*"([^"]*)"/.exec(log)?.[1];
    if (!res.ok || error) throw new Error(`building ${tag} failed: ${error ?? log.slice(0, 500)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The compiled portctl, a daemon of its own and the busybox image: an end-to-end stack test. */
export interface StackFixture {
  portctl: string;
  home: TempHome;
  daemon: Daemon;
  /** For portctl and Compose: PATH, the temp home, the daemon's address, the engine. */
  env: Record<string, string>;
  image: string;
  /** `portctl …` in `cwd` with `env`, to its end; the output as text. */
  run(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Removes what the file created (cleanupDocker), then stops the daemon. */
  close(): Promise<void>;
}

/** `files`: baked into the image under /www, as busyboxImage takes them. */
export async function stackFixture(
  prefix: string,
  files: Record<string, string> = {},
): Promise<StackFixture> {
  const engine = await requireEngine();
  const bin = await builtBinaries();
  const home = tempHome(prefix);
  const daemon = await startDaemon({ home, bin: join(bin, "port-server") });
  const portctl = join(bin, "portctl");
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...home.env,
    PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
    DOCKER_HOST: engine.host,
  };
  return {
    portctl,
    home,
    daemon,
    env,
    image: await busyboxImage(files),
    async run(cwd, ...args) {
      const proc = Bun.spawn([portctl, ...args], {
        cwd,
        env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      return { code, out, err };
    },
    async close() {
      try {
        await cleanupDocker();
      } finally {
        await daemon.stop();
        home.cleanup();
      }
    },
  };
}
