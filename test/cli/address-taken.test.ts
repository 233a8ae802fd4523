// The daemon's address held by a process that is not port-server and does not answer HTTP (a
// stuck server, a raw socket): start said `port N is already in use` without naming it, status
// called it "not running", and doctor's fix (`portctl start`) then failed. All three name the
// process and give a PORT_SERVER_ADDR that works, and start writes nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWith } from "../helpers/cli.ts";

let dir = "";
let holder: Bun.TCPSocketListener;
let addr = "";
/** This test process holds the port: `by <name> (pid <ours>)`. */
const WHO = `by \\S+ \\(pid ${process.pid}\\)`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portctl-taken-"));
  // Listens, accepts, never answers: /healthz times out, as with a hung foreign server.
  holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  addr = `127.0.0.1:${holder.port}`;
});
afterAll(async () => {
  holder.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const init = (address = addr) => ({
  env: { HOME: dir, PORT_SERVER_HOME: join(dir, "state"), PORT_SERVER_ADDR: address },
  cwd: dir,
  home: dir,
});

/** The suggested `export PORT_SERVER_ADDR=127.0.0.1:N && portctl start`, checked and parsed. */
function suggested(line: string | undefined): string {
  const m = /export PORT_SERVER_ADDR=(127\.0\.0\.1:(\d+)) && portctl start$/.exec(line ?? "");
  expect(m).not.toBeNull();
  expect(Number(m?.[2])).toBeGreaterThan(holder.port);
  return m?.[1] ?? "";
}

describe("the daemon's address taken by another process", () => {
  test("start: names the process and where to run the registry instead; writes nothing", async () => {
    const run = await runWith(["start"], init());
    expect(run.code).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(
      new RegExp(
        `^error: cannot start port-server: ${addr} is taken ${WHO}, which is not port-server — run the registry elsewhere: export PORT_SERVER_ADDR=127\\.0\\.0\\.1:\\d+ && portctl start$`,
      ),
    );
    expect(existsSync(join(dir, "state", "port-server.log"))).toBe(false);
    expect(existsSync(join(dir, "state", "port-server.pid"))).toBe(false);
  }, 30_000);

  test("status: not running, because of whom, and the fix; exit 0", async () => {
    const run = await runWith(["status"], init());
    expect(run.code).toBe(0);
    expect(run.out[0]).toMatch(
      new RegExp(`^port-server is not running: ${addr} is taken ${WHO}, which is not port-server$`),
    );
    expect(run.out[1]).toStartWith("  fix:     export PORT_SERVER_ADDR=");
    suggested(run.out[1]);
    const json = await runWith(["status", "--json"], init());
    const body = JSON.parse(json.out.join("\n"));
    expect(body).toMatchObject({
      running: false,
      address_taken: { in_use: true, pid: process.pid },
    });
    suggested(body.address_taken.fix);
  }, 30_000);

  test("doctor: ✗ daemon naming the process, and a fix that works", async () => {
    const run = await runWith(["doctor"], init());
    expect(run.code).toBe(1);
    const line = run.out.find((l) => l.startsWith("✗ daemon:"));
    expect(line).toMatch(
      new RegExp(`^✗ daemon: ${addr} is taken ${WHO}, which is not port-server — fix: export `),
    );
    // The fix, followed: the registry starts at the address it names.
    const elsewhere = suggested(line);
    try {
      const start = await runWith(["start"], init(elsewhere));
      expect(start.code).toBe(0);
      expect(start.out[0]).toMatch(/^port-server started \(pid \d+\)$/);
    } finally {
      await runWith(["stop"], init(elsewhere));
    }
  }, 30_000);
});
