// The Docker test helper against the real engine: the busybox image serves its baked and its
// $CONTENT pages on a port Docker published, the machine's listener table shows that port held
// by the engine's proxy (what core/engine.ts is asked about), and a Compose project under a
// unique name comes up and goes away with its volume.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineListeners } from "../../src/core/listeners.ts";
import { systemProbe } from "../../src/core/probe.ts";
import {
  busyboxImage,
  cleanupDocker,
  composeProject,
  docker,
  dockerEngine,
  hostPort,
  httpText,
  runContainer,
} from "../helpers/docker.ts";

const engine = await dockerEngine();
const suite = engine ? describe : describe.skip;
const dirs: string[] = [];

afterAll(async () => {
  if (engine) await cleanupDocker();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

suite("the docker test helper", () => {
  test("a busybox container serves its files and $CONTENT on a port the engine's proxy holds", async () => {
    const image = await busyboxImage({ "index.html": "baked\n", "about.txt": "about\n" });
    expect(await busyboxImage({ "about.txt": "about\n", "index.html": "baked\n" })).toBe(image);
    const plain = await runContainer({ image, ports: [80] });
    const port = plain.ports.get(80) as number;
    expect(await httpText(port)).toBe("baked\n");
    expect(await httpText(port, "/about.txt")).toBe("about\n");
    const custom = await runContainer({ image, ports: [80], env: { CONTENT: "mine" } });
    expect(await httpText(custom.ports.get(80) as number)).toBe("mine\n");

    expect(systemProbe().listening()(port)).toBe(true);
    const listener = machineListeners().find((l) => l.port === port);
    // The kernel sees the engine's userland proxy, not the container: why the engine is asked.
    expect(listener?.process).toMatch(/^(docker-proxy|dockerd|rootlesskit|rootlessport)$/);

    const inspect = await docker("inspect", "-f", "{{.State.Running}}", plain.name);
    expect(inspect.stdout.trim()).toBe("true");
  }, 120_000);

  test("a Compose project under a unique name comes up and is removed with its volume", async () => {
    const image = await busyboxImage();
    const dir = mkdtempSync(join(tmpdir(), "pst-compose-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "docker-compose.yml"),
      `version: "3.7"\nservices:\n  web:\n    image: ${image}\n    environment:\n      CONTENT: from-compose\n    ports:\n      - "127.0.0.1::80"\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n`,
    );
    const project = await composeProject(dir);
    const up = await project.run("up", "-d");
    expect(up.stderr).not.toMatch(/error/i);
    expect(up.code).toBe(0);
    const port = await hostPort(`${project.name}_web_1`, 80).catch(() =>
      hostPort(`${project.name}-web-1`, 80),
    );
    expect(await httpText(port)).toBe("from-compose\n");
    const volumes = await docker("volume", "ls", "-q", "--filter", `name=${project.name}_data`);
    expect(volumes.stdout.trim()).toBe(`${project.name}_data`);

    const down = await project.run("down", "-v", "-t", "0");
    expect(down.code).toBe(0);
    const left = await docker(
      "ps",
      "-aq",
      "--filter",
      `label=com.docker.compose.project=${project.name}`,
    );
    expect(left.stdout.trim()).toBe("");
    const gone = await docker("volume", "ls", "-q", "--filter", `name=${project.name}_data`);
    expect(gone.stdout.trim()).toBe("");
  }, 120_000);
});
