// `portctl mcp` under the official MCP Inspector's CLI (pinned in test/hosts): tools/list
// --strict finds no portability problem, neither an error (exit 0) nor a warning (a nullable
// field written as a type array was one, 43 times), and a client of the current
// protocol (--protocol-era modern: 2026-07-28 through server/discover) calls a tool; its
// result carries the 2026-07-28 serverInfo _meta, which a 2025 answer never has.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import { hostBin, hostHome, runHost } from "../helpers/hosts.ts";

const inspector = hostBin("inspector");
const h = hostHome();
let home: TempHome;
let daemon: Daemon;
let portctl = "";

beforeAll(async () => {
  if (!inspector) return;
  const bin = await builtBinaries();
  portctl = join(bin, "portctl");
  home = tempHome("portctl-inspector-");
  daemon = await startDaemon({ home, bin: join(bin, "port-server") });
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  home?.cleanup();
  h.cleanup();
});

const run = (...args: string[]) =>
  runHost(
    [
      inspector as string,
      "--cli",
      ...args,
      "-e",
      `PORT_SERVER_ADDR=127.0.0.1:${daemon.port}`,
      "--",
      portctl,
      "mcp",
    ],
    { cwd: h.root, env: h.env },
  );

test.skipIf(!inspector)(
  "tools/list --strict: every tool, no error and no warning",
  async () => {
    const r = await run("--method", "tools/list", "--strict");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const names = (JSON.parse(r.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(names).toEqual([
      "allocate",
      "release",
      "list",
      "check",
      "env",
      "scan",
      "prune",
      "history",
    ]);
  },
  120_000,
);

test.skipIf(!inspector)(
  "--protocol-era modern: a 2026-07-28 client calls check",
  async () => {
    const r = await run(
      "--protocol-era",
      "modern",
      "--method",
      "tools/call",
      "--tool-name",
      "check",
      "--tool-arg",
      "port=1",
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result._meta["io.modelcontextprotocol/serverInfo"].name).toBe("port-server");
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ port: 1, available: expect.any(Boolean) });
  },
  120_000,
);
