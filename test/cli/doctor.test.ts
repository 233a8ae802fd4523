// `portctl doctor`: each check against the real thing it checks (a daemon from source, a fake
// /healthz of another version, a state folder, installed skill files), and the database check
// through the daemon's own quick_check.
import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { status } from "../../src/cli/commands/daemon.ts";
import { doctor } from "../../src/cli/commands/doctor.ts";
import { integrityCheck } from "../../src/cli/doctor/checks.ts";
import { Store } from "../../src/core/store.ts";
import { VERSION } from "../../src/core/version.ts";
import { installLocal } from "../../src/skill/install.ts";
import { captureIo, freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { startDaemon, stopAllDaemons, type TempHome, tempHome } from "../helpers/daemon.ts";

const homes: TempHome[] = [];
const servers: { stop(force?: boolean): unknown }[] = [];
afterEach(async () => {
  await stopAllDaemons();
  for (const s of servers.splice(0)) s.stop(true);
  for (const h of homes.splice(0)) h.cleanup();
});

describe("portctl doctor", () => {
  test("no daemon: ✗ with the command that fixes it, exit 1", async () => {
    const h = home();
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` });
    expect(await doctor({}, io)).toBe(1);
    const line = io.stdout.find((l) => l.includes("daemon:"));
    expect(line).toMatch(
      /^✗ daemon: port-server is not running at 127\.0\.0\.1:\d+ — fix: portctl start$/,
    );
    expect(io.stdout.some((l) => l.startsWith("✗ version"))).toBe(false);
  });

  test("a healthy setup: every check ✓ but the missing skill (a warning), exit 0", async () => {
    const h = home();
    const d = await startDaemon({ home: h });
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${d.port}` });
    expect(await doctor({}, io)).toBe(0);
    expect(io.stdout.map((l) => l.split(":")[0])).toEqual([
      "✓ address",
      "✓ daemon",
      "✓ version",
      "✓ database",
      "✓ state folder",
      "✓ range",
      "✓ names proxy",
      "✓ stale",
      "! skill",
    ]);
    expect(io.stdout[3]).toBe(`✓ database: ${join(h.state, "ports.db")}: integrity ok`);
  });

  test("--json is one document with every check; the skill installed is ✓, an edited one ✗", async () => {
    const h = home();
    const d = await startDaemon({ home: h });
    installLocal(join(h.root, "project"));
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${d.port}` });
    expect(await doctor({ json: true }, io)).toBe(0);
    const doc = JSON.parse(io.stdout.join("\n"));
    expect(doc.ok).toBe(true);
    expect(doc.checks.find((c: { name: string }) => c.name === "skill").status).toBe("ok");

    writeFileSync(join(h.root, "project/.claude/skills/port-manager/SKILL.md"), "old text");
    const again = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${d.port}` });
    expect(await doctor({}, again)).toBe(1);
    expect(again.stdout.at(-1)).toBe(
      `✗ skill: the skill in ${join(h.root, "project/.claude/skills/port-manager")} differs from this portctl's — fix: portctl skill install`,
    );
  });

  test("allocations of a deleted checkout: a warning with the prune that frees them", async () => {
    const h = home();
    const d = await startDaemon({ home: h });
    const checkout = join(h.root, "gone-worktree");
    mkdirSync(checkout);
    const res = await checkedFetch(`${d.url}/v1/allocations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ app: "shop", instance: "gone", service: "web", checkout }),
    });
    expect(res.status).toBe(201);
    rmSync(checkout, { recursive: true });
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${d.port}` });
    expect(await doctor({}, io)).toBe(0);
    expect(io.stdout).toContain(
      "! stale: 1 allocation of checkouts that no longer exist: shop/gone/web — fix: portctl prune --yes",
    );
    // Doctor only looked: the allocation is still there.
    expect(
      ((await (await checkedFetch(`${d.url}/v1/allocations`)).json()) as unknown[]).length,
    ).toBe(1);
  });

  test("a daemon of another version: ✗ version, fix portctl restart; status warns too", async () => {
    const h = home();
    const fake = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ status: "ok", pid: 424242, version: "0.0.9" }),
    });
    servers.push(fake);
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${fake.port}` });
    expect(await doctor({}, io)).toBe(1);
    expect(io.stdout).toContain(
      `✗ version: the daemon is version 0.0.9 but portctl is ${VERSION} — fix: portctl restart`,
    );
    const st = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${fake.port}` });
    expect(await status({}, st)).toBe(0);
    expect(st.stderr).toEqual([
      `warning: the daemon is version 0.0.9 but portctl is ${VERSION} — run: portctl restart`,
    ]);
  });

  test("something else answering on the address is ✗ daemon, and its database is never named", async () => {
    const h = home();
    const fake = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ status: "ok", pid: 1, version: VERSION, db: "/evil.db" }),
    });
    servers.push(fake);
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${fake.port}` });
    expect(await doctor({}, io)).toBe(1);
    // The fix names a port nothing listens on, for PORT_SERVER_ADDR.
    const line = io.stdout.find((l) => l.startsWith("✗ daemon:"));
    expect(line).toMatch(
      new RegExp(
        `^✗ daemon: what answers at 127\\.0\\.0\\.1:${fake.port} is not this registry's daemon \\(pid 1: it is not a process id port-server could have\\) — fix: export PORT_SERVER_ADDR=127\\.0\\.0\\.1:\\d+ && portctl start$`,
      ),
    );
    expect(io.stdout.some((l) => l.includes("/evil.db"))).toBe(false);
    expect(io.stdout.some((l) => l.startsWith("✓ daemon"))).toBe(false);
  });

  test("a state folder others can write: ✗ with the chmod that fixes it", async () => {
    const h = home();
    mkdirSync(h.state);
    chmodSync(h.state, 0o777);
    const io = ioFor(h, { PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` });
    expect(await doctor({}, io)).toBe(1);
    expect(io.stdout).toContain(
      `✗ state folder: refusing the state folder ${h.state}: others may write to it (mode 0777) — fix: chmod 700 ${h.state}`,
    );
  });

  test("a bad address or range is ✗ and names the variable", async () => {
    const h = home();
    const io = ioFor(h, {
      PORT_SERVER_ADDR: "example.com:80",
      PORT_SERVER_RANGE: "5000-5001",
      PORT_SERVER_EXCLUDE: "5000-5001",
    });
    expect(await doctor({}, io)).toBe(1);
    expect(io.stdout[0]).toStartWith("✗ address: ");
    expect(io.stdout[0]).toEndWith(
      "— fix: unset PORT_SERVER_ADDR, or set it to 127.0.0.1:<port> or unix:/path/to/port-server.sock",
    );
    expect(io.stdout.some((l) => l.startsWith("✗ daemon"))).toBe(false);
    expect(io.stdout).toContain(
      "✗ range: PORT_SERVER_EXCLUDE leaves no port of 5000-5001 — fix: narrow PORT_SERVER_EXCLUDE",
    );
  });
});

describe("database integrity", () => {
  test("quick_check finds a damaged page, and doctor's verdict says what and how to recover", () => {
    const h = home();
    const path = join(h.root, "ports.db");
    const store = new Store(path);
    store.db.run("CREATE TABLE filler (x TEXT)");
    store.db.run("CREATE INDEX filler_x ON filler (x)");
    for (let i = 0; i < 400; i++)
      store.db.run("INSERT INTO filler VALUES (?)", [`row-${i}`.repeat(8)]);
    expect(store.quickCheck()).toBe("ok");
    store.close();
    // Garble the header of the file's last page (filler's, made last), not the schema's.
    const pageSize = 4096;
    const lastPage = Math.floor(statSync(path).size / pageSize) - 1;
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(12, 0x5a), 0, 12, lastPage * pageSize);
    closeSync(fd);
    const damaged = new Store(path);
    const verdict = damaged.quickCheck();
    damaged.close();
    expect(verdict).not.toBe("ok");
    const check = integrityCheck(verdict, path);
    expect(check?.status).toBe("fail");
    expect(check?.fix).toBe(
      `portctl stop, keep a copy of ${path}, then recover it with: sqlite3 ${path} .recover`,
    );
  });
});

// --- internal ---

function home(): TempHome {
  const h = tempHome("port-server-doctor-");
  homes.push(h);
  return h;
}

/** Runs in `<root>/project` (its own folder, not the home whose .claude is global). */
function ioFor(h: TempHome, env: Record<string, string>) {
  const cwd = join(h.root, "project");
  mkdirSync(cwd, { recursive: true });
  return captureIo({ env: { ...h.env, ...env }, cwd, home: h.root });
}
