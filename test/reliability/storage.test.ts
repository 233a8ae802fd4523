// When the database cannot be written: a full disk, files that refuse writes, a read-only
// directory at start. Writes answer 503 with a JSON error, the daemon stays up and answers
// /healthz and reads, and it recovers by itself once the disk is writable again.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { checkedFetch } from "../helpers/contract.ts";
import {
  type Daemon,
  runServer,
  startDaemon,
  stopAllDaemons,
  type TempHome,
  tempHome,
} from "../helpers/daemon.ts";
import { allocate, healthStatus, listAllocations, readDatabase } from "../helpers/http.ts";
import { chattr, ext4, type Mount, remount, tmpfs, unavailable } from "../helpers/mounts.ts";

const MiB = 1024 * 1024;
/** Why each test cannot run here, if it cannot: mounting needs privileges. */
const SKIP = {
  "full disk": unavailable((dir) => tmpfs(dir, MiB)),
  "immutable files": unavailable((dir) => ext4(dir, 4 * MiB)),
  "read-only directory": unavailable(directTmpfsOnly),
};
for (const [name, reason] of Object.entries(SKIP)) {
  if (reason) console.warn(`storage.test.ts: skipping the ${name} test: ${reason}`);
}

let home: TempHome;
const mounts: Mount[] = [];
beforeEach(() => {
  home = tempHome("port-server-storage-");
});
afterEach(async () => {
  await stopAllDaemons(); // before unmounting: the daemon holds the files open
  for (const m of mounts.splice(0)) m.unmount();
  home.cleanup();
});

describe("writes fail, the daemon stays up and recovers", () => {
  test.skipIf(SKIP["full disk"] !== undefined)(
    "a full disk: 503 storage until space is freed",
    async () => {
      const { daemon, dir, first } = await daemonOn(tmpfs(home.root, MiB));
      const fill = join(dir, "fill");
      fillUp(fill);

      await expectWritesRefused(daemon, [first], /database or disk is full/);

      rmSync(fill);
      await expectRecovered(daemon, [first]);
      expect(integrity(dir)).toBe("ok");
      expect(await daemon.stop()).toBe(0);
    },
  );

  test.skipIf(SKIP["immutable files"] !== undefined)(
    "database files made immutable (chattr +i): 503 storage until writable again",
    async () => {
      const { daemon, dir, first } = await daemonOn(ext4(home.root, 4 * MiB));
      // Not the -shm file: SQLite maps it into memory, and a write fault there is SIGBUS in any
      // process. The database and its WAL are what a read-only disk takes away.
      const files = [join(dir, "ports.db"), join(dir, "ports.db-wal")];
      expect(chattr("+i", files)).toBeUndefined();
      try {
        await expectWritesRefused(daemon, [first], /disk I\/O error|readonly/);
      } finally {
        chattr("-i", files);
      }
      await expectRecovered(daemon, [first]);
      expect(integrity(dir)).toBe("ok");
      expect(await daemon.stop()).toBe(0);
    },
  );
});

describe("a read-only database directory at start", () => {
  test.skipIf(SKIP["read-only directory"] !== undefined)(
    "refused with one clear line, the file untouched; served again once writable",
    async () => {
      const mount = directTmpfsOnly(home.root);
      if (typeof mount === "string") throw new Error(mount);
      mounts.push(mount);
      const db = join(mount.dir, "ports.db");
      const daemon = await startDaemon({ home, args: ["--db", db] });
      const res = await allocate(daemon.url, { app: "shop", instance: "main", service: "web" });
      expect(res.status).toBe(201);
      const first = (await res.json()) as Allocation;
      expect(await daemon.stop()).toBe(0);
      const bytes = readFileSync(db);

      expect(remount(mount.dir, "ro")).toBeUndefined();
      const run = await runServer(["--port", "0", "--db", db], { home });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toStartWith(`port-server: cannot open database ${db}: `);
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(readFileSync(db).equals(bytes)).toBe(true);

      expect(remount(mount.dir, "rw")).toBeUndefined();
      const again = await startDaemon({ home, args: ["--db", db] });
      expect(await listAllocations(again.url)).toEqual([first]);
      expect(await again.stop()).toBe(0);
    },
  );
});

// --- internal ---

/** A daemon whose database lives on `mount`, with one allocation made while all was well. */
async function daemonOn(
  mount: Mount | string,
): Promise<{ daemon: Daemon; dir: string; first: Allocation }> {
  if (typeof mount === "string") throw new Error(mount);
  mounts.push(mount);
  const daemon = await startDaemon({
    home,
    args: ["--db", join(mount.daemonDir, "ports.db")],
    ...(mount.bin ? { bin: mount.bin } : {}),
  });
  mount.attach(daemon.pid);
  const res = await allocate(daemon.url, { app: "shop", instance: "main", service: "web" });
  expect(res.status).toBe(201);
  return { daemon, dir: mount.dir, first: (await res.json()) as Allocation };
}

/** Writes until the file system says ENOSPC. */
function fillUp(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

async function expectWritesRefused(daemon: Daemon, before: Allocation[], error: RegExp) {
  for (const service of ["db", "cache", "queue"]) {
    const res = await allocate(daemon.url, { app: "shop", instance: "main", service });
    const body = (await res.json()) as { error: string; code: string };
    expect({ status: res.status, code: body.code }).toEqual({ status: 503, code: "storage" });
    expect(body.error).toMatch(error);
  }
  const release = await checkedFetch(`${daemon.url}/v1/allocations/${before[0]?.id}`, {
    method: "DELETE",
  });
  expect(release.status).toBe(503);
  // Still up, still reading: health, the list and a port lookup answer as before.
  expect(daemon.proc.exitCode).toBeNull();
  expect(await healthStatus(daemon.url)).toBe(200);
  expect(await listAllocations(daemon.url)).toEqual(before);
  expect((await checkedFetch(`${daemon.url}/v1/ports/${before[0]?.port}`)).status).toBe(200);
}

async function expectRecovered(daemon: Daemon, before: Allocation[]) {
  const res = await allocate(daemon.url, { app: "shop", instance: "main", service: "db" });
  expect(res.status).toBe(201);
  const second = (await res.json()) as Allocation;
  expect(await listAllocations(daemon.url)).toEqual([...before, second]);
}

/**
 * `PRAGMA integrity_check` of the database and its WAL, copied out while the daemon idles: a
 * namespaced tmpfs is only reachable through /proc/<pid>/root, which SQLite resolves away.
 */
function integrity(dir: string): string {
  const copy = mkdtempSync(join(home.root, "copy-"));
  for (const name of ["ports.db", "ports.db-wal"]) {
    if (existsSync(join(dir, name))) copyFileSync(join(dir, name), join(copy, name));
  }
  return readDatabase(join(copy, "ports.db")).integrity;
}

/** The read-only remount needs our own mount, not one inside the daemon's namespace. */
function directTmpfsOnly(parent: string): Mount | string {
  const mount = tmpfs(parent, MiB);
  if (typeof mount !== "string" && mount.bin) return "a read-only remount needs a direct mount";
  return mount;
}
