// A containerised agent reaches the host's registry through the daemon's Unix socket mounted
// into the container (#28): the compiled portctl runs in a FROM-scratch busybox container (the
// host's C library mounted read-only beside it), with PORT_SERVER_ADDR=unix:/run/port-server.sock,
// as an ordinary uid. The kernel tells the daemon who connected: the allocation is that uid's,
// and the container cannot release the host user's allocations. Skipped without an engine
// (a failure under CI=true, see helpers/docker.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  busyboxImage,
  cleanupDocker,
  docker,
  dockerEngine,
  uniqueName,
} from "../helpers/docker.ts";
import { shareExecutable } from "../helpers/users.ts";

const engine = await dockerEngine();
/** No user of the host needs to exist for the kernel to name a uid. */
const UID = 4242;

let daemon: Daemon;
let home: TempHome;
let image: string;
let portctl: { path: string; remove(): void };

describe.skipIf(!engine || process.platform !== "linux")(
  "a container on the mounted socket",
  () => {
    beforeAll(async () => {
      home = tempHome("port-server-container-");
      daemon = await startDaemon({ home });
      image = await busyboxImage();
      portctl = shareExecutable(join(await builtBinaries(), "portctl"));
    }, 180_000);

    afterAll(async () => {
      await cleanupDocker();
      await daemon?.stop();
      home?.cleanup();
      portctl?.remove();
    });

    /** `portctl <args>` in a fresh container as UID, the state folder's socket mounted. */
    const inContainer = (args: string[], extra: string[] = ["-w", "/tmp"]) =>
      docker(
        "run",
        "--rm",
        ...extra,
        "--name",
        uniqueName("pst-agent"),
        "--network",
        "none",
        "--user",
        `${UID}:${UID}`,
        "-v",
        `${join(home.state, "port-server.sock")}:/run/port-server.sock`,
        "-v",
        `${dirname(portctl.path)}:/opt/port-server:ro`,
        // The compiled binary links the C library; FROM scratch has none: the host's, read-only.
        "-v",
        `${realpathSync("/lib")}:/lib:ro`,
        "-v",
        `${realpathSync("/lib64")}:/lib64:ro`,
        "-e",
        "PORT_SERVER_ADDR=unix:/run/port-server.sock",
        "-e",
        "HOME=/tmp",
        image,
        "/opt/port-server/portctl",
        ...args,
      );

    test("allocates as its own uid, with no network at all", async () => {
      const run = await inContainer([
        "allocate",
        "--app",
        "agent",
        "--instance",
        "ctr",
        "--service",
        "web",
        "--json",
      ]);
      expect(run.code).toBe(0);
      const mine = JSON.parse(run.stdout) as Allocation;
      expect(mine).toMatchObject({ app: "agent", instance: "ctr", service: "web" });
      expect(mine.owner).toBeUndefined();
      // The host's user, who runs the daemon, sees it whole, and whose it is.
      const all = (await (await fetch(`${daemon.url}/v1/allocations`)).json()) as Allocation[];
      expect(all.find((a) => a.id === mine.id)).toMatchObject({
        port: mine.port,
        owner: `uid ${UID}`,
      });
    }, 60_000);

    test("cannot release the host user's allocation, and sees it only as another user's", async () => {
      const res = await fetch(`${daemon.url}/v1/allocations`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ app: "host-secret", instance: "main", service: "db" }),
      });
      const secret = (await res.json()) as Allocation;
      const release = await inContainer(["release", "--id", String(secret.id)]);
      expect(release.code).toBe(1);
      expect(release.stderr).toContain(`port ${secret.port} belongs to user `);
      const check = await inContainer(["check", "--port", String(secret.port)]);
      expect(check.stdout.trim()).toMatch(
        new RegExp(`^port ${secret.port} is allocated to another user \\(\\S+\\)$`),
      );
      expect(check.stdout + release.stderr).not.toContain("host-secret");
      const after = (await (await fetch(`${daemon.url}/v1/allocations`)).json()) as Allocation[];
      expect(after.find((a) => a.id === secret.id)).toMatchObject({ app: "host-secret" });
    }, 60_000);

    test("a workspace bind-mounted from the host is recorded by its host path", async () => {
      const workspace = mkdtempSync(join(tmpdir(), "port-server-workspace-"));
      try {
        mkdirSync(join(workspace, "proj", ".git"), { recursive: true });
        chmodSync(workspace, 0o755);
        const run = await inContainer(
          ["allocate", "--app", "ws", "--instance", "main", "--service", "web", "--json"],
          ["-v", `${workspace}:/workspaces`, "-w", "/workspaces/proj"],
        );
        expect(run.code).toBe(0);
        expect((JSON.parse(run.stdout) as Allocation).checkout).toBe(join(workspace, "proj"));
        // The host path does not exist in here: list asks the daemon, which sees it, not the
        // container's own folders, whether the checkout is gone.
        const list = await inContainer(
          ["list", "--app", "ws"],
          ["-v", `${workspace}:/workspaces`, "-w", "/workspaces/proj"],
        );
        expect(list.code).toBe(0);
        expect(list.stdout).toContain("ws ");
        expect(list.stdout).not.toContain("STALE");
      } finally {
        rmSync(workspace, { recursive: true, force: true });
      }
    }, 60_000);

    test("a folder of the container's own says it cannot be recorded, and records none", async () => {
      const run = await inContainer([
        "allocate",
        "--app",
        "own",
        "--instance",
        "main",
        "--service",
        "web",
      ]);
      expect(run.code).toBe(0);
      expect(run.stderr.trim()).toBe(
        "note: the registry cannot see this checkout from the host (a container's own folder, not a bind mount); recorded without one",
      );
      // By name the host's user finds their own rows only (names are each user's, #28): the
      // container's is found among all, by its owner.
      const all = (await (await fetch(`${daemon.url}/v1/allocations`)).json()) as Allocation[];
      const own = all.filter((a) => a.app === "own" && a.owner === `uid ${UID}`);
      expect(own).toMatchObject([{ app: "own", checkout: null }]);
      const port = own[0]?.port;
      const events = (await (await fetch(`${daemon.url}/v1/events?port=${port}`)).json()) as {
        reason: string;
      }[];
      expect(events[0]?.reason).toBe(
        "allocated; checkout not recorded: /tmp is not a folder mounted from the host",
      );
    }, 60_000);
  },
);
