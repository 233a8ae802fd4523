// No daemon, or something else on its port: one clear line on stderr and exit 1, never a stack
// trace; `status` still exits 0.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, NOT_RUNNING_LINE, runWith } from "../helpers/cli.ts";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portctl-unreachable-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const init = (addr: string) => ({
  env: { HOME: dir, PORT_SERVER_HOME: join(dir, "state"), PORT_SERVER_ADDR: addr },
  cwd: dir,
  home: dir,
});

const CLIENT_COMMANDS: [string, string[]][] = [
  ["allocate", "--service", "web"],
  ["allocate", "-q", "--service", "web", "--port", "8080"],
  ["list"],
  ["list", "--all", "--json"],
  ["check", "--port", "3000"],
  ["release", "--id", "1"],
  ["release", "--app", "myapp"],
  ["release"],
  ["health"],
  ["health", "--json"],
].map((argv) => [argv.join(" "), argv]);

describe("nothing listening on PORT_SERVER_ADDR", () => {
  test.each(CLIENT_COMMANDS)("%s: the not-running line and exit 1", async (_, argv) => {
    const run = await runWith(argv, init(`127.0.0.1:${freePort()}`));
    // With --json the error also goes to stdout, shaped like the API's errors.
    const out = argv.includes("--json")
      ? [
          JSON.stringify(
            { error: NOT_RUNNING_LINE.replace(/^error: /, ""), code: "unreachable" },
            null,
            2,
          ),
        ]
      : [];
    expect(run).toEqual({ code: 1, out, err: [NOT_RUNNING_LINE] });
  });

  test("status exits 0 and says how to start it", async () => {
    const run = await runWith(["status"], init(`127.0.0.1:${freePort()}`));
    expect(run.code).toBe(0);
    expect(run.err).toEqual([]);
    expect(run.out[0]).toBe("port-server is not running (start it with: portctl start)");
  });

  test("status --json says not running", async () => {
    const run = await runWith(["status", "--json"], init(`127.0.0.1:${freePort()}`));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out.join("\n"))).toMatchObject({
      running: false,
      state_dir: join(dir, "state"),
    });
  });
});

describe("another program on the daemon's port", () => {
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname === "/healthz"
          ? new Response("<html>ok</html>", { headers: { "content-type": "text/html" } })
          : new Response("<html>no</html>", { status: 404 }),
    });
  });
  afterAll(() => server.stop(true));

  test.each(CLIENT_COMMANDS)("%s: one line asking whether it is port-server", async (_, argv) => {
    const run = await runWith(argv, init(`127.0.0.1:${server.port}`));
    expect(run.code).toBe(1);
    if (argv.includes("--json")) {
      expect(JSON.parse(run.out.join("\n"))).toMatchObject({ code: "daemon" });
    } else {
      expect(run.out).toEqual([]);
    }
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(
      /^error: unexpected answer from the server \(HTTP (200|404)\); is it port-server\?$/,
    );
  });
});

// JSON, but not port-server's: a command printed "reusing port  (id=) for
// undefined/undefined/undefined" and exited 0, or failed with "{} is not iterable".
describe("another program answering JSON of another shape", () => {
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json({}) });
  });
  afterAll(() => server.stop(true));

  test.each([
    ...CLIENT_COMMANDS,
    ...[["history"], ["env"], ["export"], ["prune"]].map((a): [string, string[]] => [
      a[0] as string,
      a,
    ]),
  ])("%s: one line asking whether it is port-server, exit 1", async (_, argv) => {
    const run = await runWith(argv, init(`127.0.0.1:${server.port}`));
    expect(run.code).toBe(1);
    if (!argv.includes("--json")) expect(run.out).toEqual([]);
    expect(run.err).toEqual([
      "error: unexpected answer from the server (HTTP 200); is it port-server?",
    ]);
  });
});

describe("a PORT_SERVER_ADDR that is not a loopback address", () => {
  test.each([
    ["example.com:80", "loopback"],
    ["127.0.0.1:99999", "PORT_SERVER_ADDR"],
    ["nonsense", "PORT_SERVER_ADDR"],
  ])("%s: refused in one line, nothing sent", async (addr, mention) => {
    const run = await runWith(["list"], init(addr));
    expect(run.code).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toStartWith("error: PORT_SERVER_ADDR");
    expect(run.err[0]).toContain(mention);
  });
});
