// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// `portctl scan` as the compiled binary reads Compose projects: every fixture of
// test/fixtures/compose-model/ gives what the in-process model gives (whose ports
// test/core/scan-model.test.ts asserts), and `scan --register` records every port the merged
// stack (base + override file) publishes, under the app/instance it names.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { scanProject } from "../../src/core/scan/index.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import { makeRepo } from "../helpers/git.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/compose-model");
let portctl = "";
let home: TempHome;
let daemon: Daemon;
let env: Record<string, string>;

beforeAll(async () => {
  const dir = await builtBinaries();
  portctl = join(dir, "portctl");
  home = tempHome("portctl-e2e-scan-");
  daemon = await startDaemon({ home, bin: join(dir, "port-server") });
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...home.env,
    PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
  };
}, 120_000);
afterAll(async () => {
  await daemon?.stop();
  home?.cleanup();
});

function run(args: string[], cwd = home.root, extra: Record<string, string> = {}) {
  const p = Bun.spawnSync([portctl, ...args], {
    cwd,
    env: { ...env, ...extra },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("the binary reads each fixture as the model does", () => {
  for (const name of readdirSync(FIXTURES)) {
    test(name, () => {
      const dir = join(FIXTURES, name);
      const result = run(["scan", "--json", dir]);
      const expected = scanProject(dir, {});
      const printed = JSON.parse(result.out);
      expect(printed.findings).toEqual(JSON.parse(JSON.stringify(expected.findings)));
      expect(printed.errors).toEqual(
        expected.problems
          .filter((p) => p.severity === "error")
          .map(({ source, message }) => ({ source, message })),
      );
      expect(expected.findings.length).toBeGreaterThan(0);
      expect(result.code).toBe(expected.problems.some((p) => p.severity === "error") ? 1 : 0);
    });
  }
});

test("--register records every port of base + override, for the app/instance it names", async () => {
  const project = join(home.root, "shop");
  cpSync(join(FIXTURES, "override"), project, { recursive: true });
  // The fixture's host ports, moved to ports free now: a listener of another folder on 8080 (on a
  // shared machine, another test's) would be a conflict naming it, not a registration.
  const port = new Map([8080, 8081, 9000, 9001, 5432, 6379, 9229].map((p) => [p, freePort()]));
  for (const file of ["compose.yaml", "compose.override.yaml"]) {
    const text = readFileSync(join(project, file), "utf8");
    writeFileSync(
      join(project, file),
      text.replace(/"(\d+):/g, (_m, p: string) => `"${port.get(Number(p)) ?? p}:`),
    );
  }
  const result = run(["scan", "--register", "--instance", "dev"], project);
  expect(result.code).toBe(0);
  expect(result.err).toBe("");
  const lines = result.out.trimEnd().split("\n");
  const at = (p: number) => port.get(p);
  expect(lines).toEqual([
    `registered port ${at(8080)} (id=1) for shop/dev/web-${at(8080)}  [compose.yaml:5]`,
    `registered port ${at(8081)} (id=2) for shop/dev/web-${at(8081)}  [compose.override.yaml:5]`,
    `registered port ${at(9001)} (id=3) for shop/dev/api  [compose.override.yaml:8]`,
    `registered port ${at(6379)} (id=4) for shop/dev/cache  [compose.yaml:17]`,
    `registered port ${at(9229)} (id=5) for shop/dev/debug  [compose.override.yaml:17]`,
  ]);
  const rows = (await (await checkedFetch(`${daemon.url}/v1/allocations`)).json()) as Allocation[];
  expect(rows.map((a) => `${a.service}:${a.port}`)).toEqual([
    `web-${at(8080)}:${at(8080)}`,
    `web-${at(8081)}:${at(8081)}`,
    `api:${at(9001)}`,
    `cache:${at(6379)}`,
    `debug:${at(9229)}`,
  ]);
}, 30_000);

test("from a subfolder: the repository's top, files not read named, links, no secret echoed", () => {
  const repo = makeRepo(join(home.root, "repos"), "shop", "main");
  const put = (path: string, text: string) => {
    mkdirSync(join(repo.main, path, ".."), { recursive: true });
    writeFileSync(join(repo.main, path), text);
  };
  put("deploy/stack.yml", 'services:\n  web:\n    ports: ["${GITHUB_TOKEN}:80", "18080:80"]\n');
  symlinkSync("deploy/stack.yml", join(repo.main, "compose.yaml"));
  put("a/b/c/d/e/compose.yaml", 'services:\n  deep:\n    ports: ["18081:80"]\n');
  mkdirSync(join(repo.main, "services", "api"), { recursive: true });
  const result = run(["scan"], join(repo.main, "services", "api"), { GITHUB_TOKEN: "ghp_s3cret" });
  expect(result.code).toBe(0);
  expect(result.out).toBe(
    "PORT   SERVICE  PROTOCOL  SOURCE\n18080  web      tcp       compose.yaml:3\n",
  );
  expect(result.err.split("\n")).toEqual([
    `scanning ${repo.main} (the repository's top folder)`,
    'warning: compose.yaml:3: web: "${GITHUB_TOKEN}:80": the value of GITHUB_TOKEN is not a port or port range',
    "1 compose file not scanned: a/b/c/d/e/compose.yaml; pass --depth 5",
    "",
  ]);
  expect(result.err + result.out).not.toContain("s3cret");
});
