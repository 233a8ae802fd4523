// The model against Compose itself: where Debian's docker-compose (1.29) reads a fixture, its
// `docker-compose config` must publish exactly the host ports the model finds, service by
// service. (It predates include, nested interpolation, !reset/!override and document streams:
// those fixtures follow the Compose specification, in scan-model.test.ts.) Skipped where
// docker-compose is not installed.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parse } from "yaml";
import { type ComposeProject, composeProjectAt } from "../../src/core/scan/index.ts";

const ROOT = join(import.meta.dir, "../fixtures/compose-model");
const DOCKER_COMPOSE = Bun.which("docker-compose");
const FIXTURES = ["anchors", "extends-v1", "legacy-override", "compose-file"];

test.skipIf(!DOCKER_COMPOSE)(
  "docker-compose config publishes the ports the model finds",
  async () => {
    const theirs = await Promise.all(FIXTURES.map(config));
    const ours = FIXTURES.map((name) => {
      const project = composeProjectAt(join(ROOT, name), { env: {} }) as ComposeProject;
      return Object.fromEntries(
        project.services.map((s) => [s.name, s.ports.map((p) => p.host).sort()]),
      );
    });
    expect(Object.fromEntries(FIXTURES.map((n, i) => [n, ours[i]]))).toEqual(
      Object.fromEntries(FIXTURES.map((n, i) => [n, theirs[i]])),
    );
  },
  60_000,
);

/** service → its published host ports, as `docker-compose config` prints them. */
async function config(name: string): Promise<Record<string, number[]>> {
  const proc = Bun.spawn([DOCKER_COMPOSE as string, "config"], {
    cwd: join(ROOT, name),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`docker-compose config in ${name}: ${err}`);
  const doc = parse(out) as { services: Record<string, { ports?: { published?: number }[] }> };
  return Object.fromEntries(
    Object.entries(doc.services).map(([service, s]) => [
      service,
      (s.ports ?? []).flatMap((p) => (p.published ? [Number(p.published)] : [])).sort(),
    ]),
  );
}
