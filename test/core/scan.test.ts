// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// `portctl scan`'s reader: the fixture projects under test/fixtures/ compared finding by finding
// (port, service, `file:line`, protocol, host IP), then each file reader and interpolate() alone.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { scanCompose } from "../../src/core/scan/compose.ts";
import { scanEnvFile, serviceFromKey } from "../../src/core/scan/envfiles.ts";
import { type Finding, planRegistration, scanProject } from "../../src/core/scan/index.ts";
import { interpolate } from "../../src/core/scan/interpolate.ts";
import { locate } from "../../src/core/scan/json.ts";
import { portsIn, scanPackageJson } from "../../src/core/scan/scripts.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");
const fixture = (name: string) => join(FIXTURES, name);

/** A Compose finding in the order the fields are asserted: port, service, line, protocol, IP. */
function compose(
  port: number,
  service: string,
  source: string,
  protocol: Finding["protocol"] = "tcp",
  ip?: string,
): Finding {
  return { port, service, source, protocol, kind: "compose", ...(ip ? { host_ip: ip } : {}) };
}
const env = (port: number, service: string, source: string) =>
  ({ port, service, source, protocol: "tcp", kind: "env" }) as Finding;
const script = (port: number, service: string, source: string) =>
  ({ port, service, source, protocol: "tcp", kind: "script" }) as Finding;

const DC = "docker-compose.yml";

describe("compose-forms: every port form of the Compose specification", () => {
  test("host-bound ports only, each with its file:line; container-only forms never", () => {
    const { findings } = scanProject(fixture("compose-forms"));
    expect(findings).toEqual([
      // "3000" and "3000-3005" (container only) on lines 7-8: nothing
      compose(8000, "short-8000", `${DC}:9`),
      compose(9090, "short-8080", `${DC}:10`),
      compose(9091, "short-8081", `${DC}:10`),
      compose(49100, "short-22", `${DC}:11`),
      // "8000-9000:80" (line 12) is a warning, below
      compose(8001, "short-8001", `${DC}:13`, "tcp", "127.0.0.1"),
      compose(5000, "short-5000", `${DC}:14`, "tcp", "127.0.0.1"),
      compose(5001, "short-5001", `${DC}:14`, "tcp", "127.0.0.1"),
      // "127.0.0.1::5000" (line 15): no host port, Docker picks one
      compose(6000, "short-6000", `${DC}:16`, "tcp", "::1"),
      compose(6001, "short-6001", `${DC}:17`, "tcp", "::1"),
      compose(6060, "short-6060", `${DC}:18`, "udp"),
      compose(7000, "short-7000", `${DC}:19`),
      // unquoted 3100 (line 20) and expose: "7100" (line 22): container only
      // long syntax: the line of `published:`
      compose(8080, "long-80", `${DC}:27`),
      compose(8081, "long-81", `${DC}:29`, "udp", "127.0.0.1"),
      // the long-syntax entry without published: (line 33): nothing
      compose(8083, "long-83", `${DC}:36`, "tcp", "::1"),
      // ${WEB_PORT:-8088} with WEB_PORT=8089 in .env; named after the variable
      compose(8089, "web", `${DC}:41`),
      compose(4000, "api", `${DC}:42`),
      compose(4100, "vars-4100", `${DC}:43`),
      // compose.override.yaml is docker-compose.yml's override file: one project, its services
      // after the base file's (`docker-compose config` agrees)
      compose(5173, "extra", "compose.override.yaml:4"),
      // docker-compose.dev.yml is no default name: read on its own
      compose(9229, "debug", "docker-compose.dev.yml:4", "tcp", "127.0.0.1"),
      // .env's own WEB_PORT=8089 is the port Compose already listed: not a second finding;
      // compose-notes.txt is not a Compose file name
    ]);
  });

  test("entries it cannot register are warnings with their line, not errors", () => {
    expect(scanProject(fixture("compose-forms")).problems).toEqual([
      {
        source: `${DC}:12`,
        message:
          'short: "8000-9000:80": a host range for one container port lets Docker pick; register the port it uses',
        severity: "warning",
      },
      {
        source: `${DC}:44`,
        message: 'vars: "${UNSET_PORT}:4200": UNSET_PORT not set and no default',
        severity: "warning",
      },
      {
        source: `${DC}:45`,
        message: 'vars: "$${HOME}:4300": "${HOME}" is not a port or port range',
        severity: "warning",
      },
    ]);
  });

  test("the environment wins over .env, as in Compose", () => {
    const { findings, problems } = scanProject(fixture("compose-forms"), {
      WEB_PORT: "9500",
      UNSET_PORT: "9600",
    });
    expect(findings).toContainEqual(compose(9500, "web", `${DC}:41`));
    expect(findings).toContainEqual(compose(9600, "unset", `${DC}:44`));
    // .env says another port than the one Compose publishes now: both are listed.
    expect(findings).toContainEqual(env(8089, "web", ".env:2"));
    expect(problems.map((p) => p.source)).toEqual([`${DC}:12`, `${DC}:45`]);
  });
});

test("env-files: *_PORT and PORT keys with valid ports, nothing else", () => {
  expect(scanProject(fixture("env-files"))).toEqual({
    findings: [
      env(5432, "postgres", ".env:2"),
      env(6379, "redis", ".env:3"),
      env(8080, "web-api", ".env:4"),
      env(9000, "admin", ".env:5"),
      env(3000, "web", ".env:6"),
      // DATABASE_URL, PORT_RANGE, SUPPORT, 70000, 0, abc and empty: skipped
      env(7001, "spaced", ".env:15"),
      env(2525, "smtp", ".env:16"),
      env(5433, "postgres", ".env.local:2"),
      env(8025, "mailhog", ".env.local:3"),
      // .envrc is not a .env file
    ],
    problems: [],
    unscanned: [],
  });
});

test("scripts: --port N, --port=N, -p N, PORT=N, docker's host side; one line per script", () => {
  expect(scanProject(fixture("scripts"))).toEqual({
    findings: [
      // Named as `portctl run -- npm run <script>` names them: the package's service (web at
      // the top) for dev, start and serve; <package>-<script> for the others.
      script(5173, "web", "package.json:6"),
      script(6006, "web-storybook", "package.json:7"),
      script(4200, "web-ng", "package.json:8"),
      script(3001, "web-api", "package.json:9"),
      script(8081, "web-db", "package.json:10"),
      script(5174, "web-both", "package.json:11"),
      script(3002, "web-both-2", "package.json:11"),
    ],
    problems: [],
    unscanned: [],
  });
});

test("broken: each unparseable file is an error at line:column, the rest is still scanned", () => {
  expect(scanProject(fixture("broken"))).toEqual({
    findings: [compose(11211, "cache", "nested/compose.yaml:4"), env(6379, "redis", ".env:2")],
    problems: [
      {
        source: "docker-compose.yml:6:3",
        message: "Flow sequence in block collection must be sufficiently indented and end with a ]",
        severity: "error",
      },
      { source: "package.json:5:31", message: 'invalid JSON: unexpected "o"', severity: "error" },
    ],
    unscanned: [],
  });
});

describe("which files are read", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "scan-names-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const put = (path: string, port: number) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `services:\n  s:\n    ports: ["${port}:${port}"]\n`);
  };

  test("docker-compose*.yml and compose*.yaml, any depth up to 4, never node_modules or .git", () => {
    const names = [
      "docker-compose.yml",
      "docker-compose.yaml",
      "docker-compose.prod.yml",
      "docker-compose-ci.yml",
      "compose.yaml",
      "compose.yml",
      "compose.override.yaml",
      "a/b/c/d/compose.yaml",
      "a/b/c/d/e/compose.yaml",
      "node_modules/pkg/compose.yaml",
      ".git/compose.yaml",
      "my-compose.yml",
      "compose.yaml.bak",
      "compose.json",
    ];
    names.forEach((name, i) => void put(name, 20000 + i));
    const sources = scanProject(root).findings.map((f) => f.source.replace(/:\d+$/, ""));
    expect(sources.sort()).toEqual(names.slice(0, 8).sort());
  });

  test("an empty folder finds nothing and reports nothing", () => {
    expect(scanProject(root)).toEqual({ findings: [], problems: [], unscanned: [] });
  });
});

describe("scanCompose, one entry at a time", () => {
  const yaml = (entry: string) => `services:\n  s:\n    ports:\n      - ${entry}\n`;
  const ports = (entry: string, vars = {}) =>
    scanCompose(yaml(entry), "c.yml", vars).findings.map((f) => f.port);

  test.each<[string, number[]]>([
    ['"0.0.0.0:80:80"', [80]],
    ['"80:80/UDP"', [80]],
    ['"[::1]::6002"', []],
    ["'3000'", []],
    ['"${P}:80"', [4321]],
    ['"$P:80"', [4321]],
  ])("%s → %p", (entry, expected) => {
    expect(ports(entry, { P: "4321" })).toEqual(expected);
  });

  test.each([
    ['"70000:80"', '"70000:80": "70000" is not a port or port range'],
    ['"${P:?need it}:80"', '"${P:?need it}:80": P not set and no default'],
    ['"8000-8001:80-82"', "a host range for one container port lets Docker pick"],
  ])("%s is a warning", (entry, message) => {
    const result = scanCompose(yaml(entry), "c.yml", {});
    expect(result.findings).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.message).toContain(message);
    expect(result.problems[0]?.severity).toBe("warning");
  });

  test("long syntax: published from a variable, host_ip interpolated too", () => {
    const text = `services:\n  db:\n    ports:\n      - target: 5432\n        published: \${PG_PORT:-5432}\n        host_ip: \${BIND:-127.0.0.1}\n`;
    expect(scanCompose(text, "c.yml", { PG_PORT: "5433" }).findings).toEqual([
      compose(5433, "pg", "c.yml:5", "tcp", "127.0.0.1"),
    ]);
  });

  test("one service, one host port on two protocols: named after the service", () => {
    const text = `services:\n  dns:\n    ports: ["53:53/udp", "53:53"]\n`;
    const { findings } = scanCompose(text, "c.yml", {});
    expect(findings.map((f) => [f.service, f.protocol])).toEqual([
      ["dns", "udp"],
      ["dns", "tcp"],
    ]);
    expect(planRegistration(findings)).toEqual({ register: [findings[0] as Finding], skipped: [] });
  });

  test("registration: one port per service; a later port for the same service is skipped", () => {
    const env = (port: number, file: string): Finding => ({
      port,
      service: "postgres",
      source: `${file}:1`,
      protocol: "tcp",
      kind: "env",
    });
    const plan = planRegistration([
      env(5432, ".env"),
      env(5433, ".env.local"),
      env(5432, ".env.test"),
    ]);
    expect(plan.register).toEqual([env(5432, ".env")]);
    expect(plan.skipped).toEqual([
      {
        finding: env(5433, ".env.local"),
        reason: "postgres is registered from .env:1 with port 5432",
      },
    ]);
  });

  test.each([
    ["no services", "name: x\n"],
    ["an empty file", ""],
    ["ports not a list", 'services:\n  a:\n    ports: "80:80"\n'],
    ["a service without ports", "services:\n  a:\n    image: x\n"],
  ])("%s: nothing, no problem", (_, text) => {
    expect(scanCompose(text, "c.yml", {})).toEqual({ findings: [], problems: [] });
  });

  test("invalid YAML: one error at the parser's line and column, no findings", () => {
    expect(scanCompose("services:\n\tweb: {}\n", "c.yml", {})).toEqual({
      findings: [],
      problems: [
        {
          source: "c.yml:2:1",
          message: "Tabs are not allowed as indentation",
          severity: "error",
        },
      ],
    });
  });
});

describe("scanEnvFile", () => {
  test("a key defined twice points at the definition that wins, `KEY: value` too", () => {
    const text = "A_PORT=1000\nA_PORT=2000\nB_PORT: 3000\n";
    expect(scanEnvFile(text, ".env").findings).toEqual([
      env(2000, "a", ".env:2"),
      env(3000, "b", ".env:3"),
    ]);
  });

  test.each([
    ["POSTGRES_PORT", "postgres"],
    ["WEB_API_PORT", "web-api"],
    ["PORT", "web"],
    ["redis_port", "redis"],
  ])("serviceFromKey(%p) = %p", (key, service) => {
    expect(serviceFromKey(key)).toBe(service);
  });
});

describe("scanPackageJson and portsIn", () => {
  test.each<[string, number[]]>([
    ["vite --port 5173", [5173]],
    ["vite --port=5173 --host", [5173]],
    ["http-server -p 8080", [8080]],
    ["PORT=3001 node x", [3001]],
    ["cross-env PORT=3001 node x", [3001]],
    ["docker run -p 8081:80 nginx", [8081]],
    ["docker run -p 127.0.0.1:8082:80 nginx", [8082]],
    ["docker run -p 80 nginx", []],
    ["podman run -p 443 x && serve -p 5000", [5000]],
    ["tsc -p tsconfig.json", []],
    ["vite --port 0", []],
    ["VITE_PORT=3000 vite", []],
    ["next dev -p 3000; next start -p 3000", [3000]],
  ])("portsIn(%p) = %p", (command, expected) => {
    expect(portsIn(command)).toEqual(expected);
  });

  test('the line of each script is its key\'s, after "scripts": (a value naming it does not count)', () => {
    const text = [
      "{",
      '  "description": "run \\"dev\\" for the site",',
      '  "scripts": {',
      '    "pre": "echo dev",',
      '    "dev": "vite --port 5173",',
      '    "api": "PORT=3001 node api.js"',
      "  }",
      "}",
    ].join("\n");
    expect(scanPackageJson(text, "package.json").findings).toEqual([
      script(5173, "web", "package.json:5"),
      script(3001, "web-api", "package.json:6"),
    ]);
  });

  // A hostile (or generated) package.json: each script used to search the whole file for its
  // name, so 30,000 scripts (1.5 MB, under the 2 MiB a Compose file may have) held scan for
  // minutes. One pass now; this test ran out of its time on the old code.
  test("30,000 scripts are scanned in one pass, each on its own line", () => {
    const n = 30_000;
    const body = Array.from({ length: n }, (_, i) => `    "s${i}": "vite --port ${3000 + i}"`);
    const text = `{\n  "scripts": {\n${body.join(",\n")}\n  }\n}\n`;
    const { findings } = scanPackageJson(text, "package.json");
    expect(findings).toHaveLength(n);
    expect(findings[n - 1]).toEqual(script(3000 + n - 1, `web-s${n - 1}`, `package.json:${n + 2}`));
    // The old code needed ~100 s; one pass takes well under a second. 30 s leaves room for a
    // loaded 2-core CI without letting the quadratic search back in.
  }, 30_000);

  test("no scripts, or scripts that are not strings: nothing", () => {
    expect(scanPackageJson('{"name":"x"}', "package.json")).toEqual({ findings: [], problems: [] });
    const odd = '{"scripts": {"a": 5, "b": null, "c": "vite --port 5173"}}';
    expect(scanPackageJson(odd, "package.json").findings).toEqual([
      script(5173, "web-c", "package.json:1"),
    ]);
  });

  test("one naming rule with portctl run: the package's service for dev/start/serve", () => {
    const text =
      '{"scripts": {"dev": "vite --port 5173", "start": "next start -p 3001", "docs": "vitepress --port 5174"}}';
    const names = (file: string) => scanPackageJson(text, file).findings.map((f) => f.service);
    expect(names("package.json")).toEqual(["web", "web", "web-docs"]);
    expect(names("apps/admin/package.json")).toEqual(["admin", "admin", "admin-docs"]);
  });

  test.each([
    ['{"a": 1,}', 1, 9, 'unexpected "}"'],
    ['{\n  "a": "x\n"}', 2, 10, 'unexpected "\\n"'],
    ['{"a": [1, 2', 1, 12, "unexpected end of input"],
    ["", 1, 1, "unexpected end of input"],
    ['{"a" 1}', 1, 6, 'unexpected "1"'],
    ["[1] 2", 1, 5, 'unexpected "2"'],
  ])("locate(%p) = %p:%p", (text, line, column, what) => {
    expect(locate(text)).toEqual({ line, column, message: `invalid JSON: ${what}` });
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe("interpolate", () => {
  const vars = { SET: "8080", EMPTY: "", ZERO: "0" };

  test.each<[string, string, string[]]>([
    ["${SET}", "8080", []],
    ["$SET:80", "8080:80", []],
    ["${UNSET}", "", ["UNSET"]],
    ["$UNSET", "", ["UNSET"]],
    ["${SET:-1}", "8080", []],
    ["${UNSET:-1}", "1", []],
    ["${EMPTY:-1}", "1", []],
    ["${UNSET-1}", "1", []],
    ["${EMPTY-1}", "", []],
    ["${SET:+alt}", "alt", []],
    ["${EMPTY:+alt}", "", []],
    ["${EMPTY+alt}", "alt", []],
    ["${UNSET+alt}", "", []],
    ["${ZERO:?must be set}", "0", []],
    ["${EMPTY:?must be set}", "", ["EMPTY"]],
    ["${EMPTY?must be set}", "", []],
    ["${UNSET?must be set}", "", ["UNSET"]],
    ["$$SET", "$SET", []],
    ["$${SET}", "${SET}", []],
    ["$$$SET", "$8080", []],
    ["${A:-1}-${B:-2}", "1-2", []],
    ["no dollars", "no dollars", []],
  ])("%p → %p", (text, value, missing) => {
    expect(interpolate(text, vars)).toMatchObject({ value, missing });
  });
});
