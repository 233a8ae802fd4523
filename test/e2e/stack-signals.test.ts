// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// `portctl run -- docker-compose up` (attached) stopped as people stop it, with the real Docker
// Engine and Debian's docker-compose. Compose counts a second SIGINT as "force" (it kills the
// containers instead of stopping them), so portctl must never add one of its own: a Ctrl-C
// typed on a terminal has already reached Compose through the foreground group, and a SIGINT
// sent to portctl alone (an agent, a task runner) must reach Compose exactly once. Either way
// the stack is stopped gracefully, the containers are left stopped (not killed), and portctl
// ends with Compose.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  composeProject,
  type DockerEngine,
  docker,
  dockerEngine,
  httpText,
  type StackFixture,
  stackFixture,
  uniqueName,
} from "../helpers/docker.ts";
import { git } from "../helpers/git.ts";
import { drain, waitUntil } from "../helpers/processes.ts";

const engine: DockerEngine | undefined = await dockerEngine();
const compose = engine?.compose[0];
const hasScript = Bun.which("script") !== null && process.platform === "linux";

let fx: StackFixture;
let portctl = "";
let env: Record<string, string>;
let image = "";
const dirs: string[] = [];

beforeAll(async () => {
  if (!engine || !compose) return;
  fx = await stackFixture("portctl-e2e-stack-signals-");
  ({ portctl, env, image } = fx);
}, 300_000);

afterAll(async () => {
  if (!engine || !compose) return;
  try {
    await fx?.close();
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

/** A checkout with one busybox httpd service on WEB_PORT, its project named `name`. */
function checkout(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pst-signals-"));
  dirs.push(dir);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "commit", "-q", "--allow-empty", "-m", "init");
  writeFileSync(
    join(dir, "docker-compose.yml"),
    [
      "services:",
      "  web:",
      `    image: ${image}`,
      "    ports:",
      '      - "127.0.0.1:${WEB_PORT:-8080}:80"',
      "    environment:",
      "      CONTENT: up",
      // httpd as PID 1 ignores SIGTERM: a graceful stop takes the whole grace period, a
      // window in which a second SIGINT would turn it into a kill
      "    stop_signal: SIGTERM",
      "    stop_grace_period: 4s",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, ".env"), `COMPOSE_PROJECT_NAME=${name}\n`);
  return dir;
}

/** The stack's web port, once `portctl run` has registered it. */
async function webPort(dir: string): Promise<number> {
  let port = 0;
  await waitUntil(() => {
    const run = Bun.spawnSync([portctl, "env"], { cwd: dir, env });
    port = Number(/WEB_PORT=(\d+)/.exec(run.stdout.toString())?.[1] ?? 0);
    return port > 0;
  }, 60_000);
  return port;
}

/** The state of the project's one container: `exited` after a stop, `running` while up. */
async function containerState(name: string): Promise<string> {
  const ps = await docker(
    "ps",
    "-a",
    "--filter",
    `label=com.docker.compose.project=${name}`,
    "--format",
    "{{.State}}",
  );
  return ps.stdout.trim();
}

describe.skipIf(!engine || !compose)("a stop signal reaches docker-compose up once", () => {
  test.skipIf(!hasScript)(
    "on a terminal: one Ctrl-C stops the stack gracefully, never force-kills it",
    async () => {
      const name = uniqueName("pst-sig");
      const dir = checkout(name);
      await composeProject(dir, { name });
      const quote = (w: string) => `'${w.replaceAll("'", `'\\''`)}'`;
      const inner = [portctl, "run", "--", ...(compose ?? []), "up"].map(quote).join(" ");
      // util-linux script(1) gives portctl a terminal of its own; `exec`: no shell in between.
      const proc = Bun.spawn(["script", "-q", "-e", "-c", `exec ${inner}`, "/dev/null"], {
        cwd: dir,
        env,
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
      const out = drain(proc.stdout).text;
      try {
        const port = await webPort(dir);
        await httpText(port, "/", 60_000);
        expect(await containerState(name)).toBe("running");
        proc.stdin.write("\u0003");
        await proc.stdin.flush();
        await waitUntil(() => proc.exitCode !== null, 60_000);
        const text = out();
        expect(text).toContain("Gracefully stopping");
        // a second SIGINT (one of portctl's own) would have made Compose kill the containers
        expect(text).not.toContain("Killing");
        expect(await containerState(name)).toBe("exited");
      } finally {
        proc.stdin.end();
        proc.kill("SIGKILL");
      }
    },
    180_000,
  );

  test("no terminal: a SIGINT to portctl alone stops the stack gracefully, once", async () => {
    const name = uniqueName("pst-sig");
    const dir = checkout(name);
    await composeProject(dir, { name });
    const proc = Bun.spawn([portctl, "run", "--", ...(compose ?? []), "up"], {
      cwd: dir,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = drain(proc.stdout).text;
    const err = drain(proc.stderr).text;
    try {
      const port = await webPort(dir);
      await httpText(port, "/", 60_000);
      proc.kill("SIGINT");
      const code = await proc.exited;
      const text = out() + err();
      expect(text).toContain("Gracefully stopping");
      expect(text).not.toContain("Killing");
      expect(await containerState(name)).toBe("exited");
      // Compose's own status for a graceful stop by SIGINT; never a forced one
      expect([0, 130]).toContain(code);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 180_000);
});
