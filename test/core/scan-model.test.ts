// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// The Compose project model (core/scan/project.ts): one fixture per feature under
// test/fixtures/compose-model/, each expectation the ports Compose itself publishes. Where
// Debian's docker-compose 1.29 reads the feature (anchors, extends, override files,
// COMPOSE_FILE), `docker-compose config` printed the same ports; `include`, nested
// interpolation, `!reset`/`!override` and document streams follow the Compose specification.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  type ComposeProject,
  composeProjectAt,
  loadComposeProject,
  scanProject,
} from "../../src/core/scan/index.ts";

const ROOT = join(import.meta.dir, "../fixtures/compose-model");

/** `service host source` per published port, the source relative to the fixture. */
function published(name: string, env: Record<string, string> = {}): string[] {
  const dir = join(ROOT, name);
  const project = composeProjectAt(dir, { env }) as ComposeProject;
  expect(project).not.toBeNull();
  return project.services.flatMap((s) =>
    s.ports.map((p) => `${s.name} ${p.host} ${relative(dir, p.file)}:${p.line}`),
  );
}

const problems = (name: string, env: Record<string, string> = {}) =>
  (
    composeProjectAt(join(ROOT, name), {
      env,
      label: (p) => relative(join(ROOT, name), p),
    }) as ComposeProject
  ).problems;

describe("YAML anchors, aliases and merge keys", () => {
  test("every port reached through an alias, at the line of the node that defines it", () => {
    expect(published("anchors")).toEqual([
      "merged 8001 compose.yaml:5", // <<: *web
      "merged-list 8004 compose.yaml:10", // <<: [*with-ports, *with-image]
      "whole 8006 compose.yaml:16", // a whole service as *whole
      "aliased-list 8002 compose.yaml:7", // ports: *list
      "item 8003 compose.yaml:8", // - *one
      "item 8005 compose.yaml:30",
      "own-wins 8007 compose.yaml:33", // a key of the service itself beats the merged one
    ]);
    expect(problems("anchors")).toEqual([]);
  });

  test("a merge key on something that is not a map: one error line with its line, no stack", () => {
    const p = model("x: &x [1]\nservices:\n  a:\n    image: x\n  b:\n    <<: *x\n");
    expect(p.problems).toEqual([
      {
        source: "compose.yaml:6",
        message: "Merge sources must be maps or map aliases",
        severity: "error",
      },
    ]);
  });

  test("an alias bomb is refused before it is expanded", () => {
    const lines = ['a: &a ["1:1","1:1","1:1","1:1","1:1","1:1","1:1","1:1","1:1"]'];
    for (let i = 0; i < 8; i++) {
      const n = String.fromCharCode(98 + i);
      const prev = String.fromCharCode(97 + i);
      lines.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    const p = model(`${lines.join("\n")}\nservices: {}\n`);
    expect(p.problems).toEqual([
      {
        source: "compose.yaml",
        message: "too many aliases to expand safely (72 aliases in 20 nodes); not read",
        severity: "error",
      },
    ]);
  });

  test("aliases × nodes past the budget (the library walks the document per alias): refused", () => {
    const services = Array.from(
      { length: 2000 },
      (_, i) => `  s${i}: {<<: *l, ports: ["${i + 1}:1"]}`,
    );
    const p = model(`x: &l {a: 1}\nservices:\n${services.join("\n")}\n`);
    expect(p.problems).toEqual([
      {
        source: "compose.yaml",
        message: "too many aliases to expand safely (2000 aliases in 6004 nodes); not read",
        severity: "error",
      },
    ]);
  });

  test("many merge keys of nested anchors, as in Sentry's self-hosted file, are read", () => {
    // An anchor used by 40 services and inside a defaults anchor that 50 more services merge:
    // the yaml package's own limit (uses × nested uses ≤ 1,000 per anchor) refuses this shape;
    // Sentry's real docker-compose.yml needs 1,491.
    const direct = Array.from(
      { length: 40 },
      (_, i) => `  r${i}:\n    <<: *restart\n    ports: ["${20000 + i}:80"]`,
    );
    const merged = Array.from(
      { length: 50 },
      (_, i) => `  d${i}:\n    <<: *defaults\n    ports: ["${21000 + i}:80"]`,
    );
    const text = `x-restart: &restart {restart: always}\nx-defaults: &defaults\n  <<: *restart\n  image: x\nservices:\n${[...direct, ...merged].join("\n")}\n`;
    const p = model(text);
    expect(p.problems).toEqual([]);
    expect(p.services).toHaveLength(90);
    expect(p.services[89]?.ports[0]?.host).toBe(21049);
  });
});

describe("interpolation", () => {
  test("nested defaults, `-`, the environment over .env; the variable that sets each port", () => {
    const project = composeProjectAt(join(ROOT, "interpolation"), {
      env: { DB_PORT: "6543", GITHUB_TOKEN: "ghp_s3cret" },
    }) as ComposeProject;
    const ports = project.services.flatMap((s) =>
      s.ports.map((p) => [s.name, p.host, p.variable, p.variables]),
    );
    expect(ports).toEqual([
      ["nested", 7800, { name: "WEB_PORT", default: "7800" }, ["WEB_PORT", "FALLBACK_PORT"]],
      [
        "nested-env",
        7901,
        { name: "API_PORT", default: "7901" },
        ["API_PORT", "API_FALLBACK_PORT"],
      ],
      ["dash", 7100, { name: "DASH_PORT", default: "7100" }, ["DASH_PORT"]],
      // EMPTY_PORT= is set (to nothing), so `-` keeps "": ":81" publishes no host port
      ["required", 6543, { name: "DB_PORT" }, ["DB_PORT"]],
      ["secret", 7200, { name: "HOST_PORT", default: "7200" }, ["HOST_PORT"]],
      ["dollar", 7301, undefined, []],
    ]);
  });

  test("warnings name the variable, never its value (it may be a secret)", () => {
    const found = problems("interpolation", { GITHUB_TOKEN: "ghp_s3cret" });
    expect(found).toEqual([
      {
        source: "compose.yaml:10",
        message: 'required: "${DB_PORT:?set DB_PORT in .env}:5432": DB_PORT not set and no default',
        severity: "warning",
      },
      {
        source: "compose.yaml:10",
        message: 'required: "${CACHE_PORT?}:6379": CACHE_PORT not set and no default',
        severity: "warning",
      },
      {
        source: "compose.yaml:12",
        message:
          'secret: "${GITHUB_TOKEN}:80": the value of GITHUB_TOKEN is not a port or port range',
        severity: "warning",
      },
      {
        source: "compose.yaml:14",
        message: 'dollar: "$$7300:80": "$7300" is not a port or port range',
        severity: "warning",
      },
    ]);
    expect(JSON.stringify(found)).not.toContain("s3cret");
  });

  test("a literal host port says where it is in the text, for rewriting it", () => {
    const p = model('services:\n  db:\n    ports: [" 127.0.0.1:5432:5432", "${X:-1}:${Y:-2}"]\n');
    const [literal, variable] = p.services[0]?.ports ?? [];
    expect(literal?.text.slice(...(literal?.hostSpan ?? [0, 0]))).toBe("5432");
    expect(variable?.hostSpan).toBeUndefined();
    expect(variable?.variable).toEqual({ name: "X", default: "1" });
  });
});

describe("extends", () => {
  test("in the file and from another file; the child's ports are appended to the parent's", () => {
    expect(published("extends")).toEqual([
      "base 7001 compose.yaml:6",
      "child 7001 compose.yaml:6", // Compose concatenates: docker-compose config lists both
      "child 7002 compose.yaml:10",
      // quiet: `ports: !reset []` drops what it inherits
      "remote 7011 common/services.yaml:5", // api extends core inside common/services.yaml
      "remote 7010 common/services.yaml:9",
    ]);
  });

  test("a cycle and a missing parent are warnings, not a hang", () => {
    const p = model(
      "services:\n  a:\n    extends: b\n  b:\n    extends: a\n  c:\n    extends: nope\n",
    );
    expect(p.problems.map((x) => x.message)).toEqual([
      "extends: a extends itself (through a → b)",
      "c: extends: no service nope in this file",
    ]);
  });
});

describe("include", () => {
  test("short and long form, path lists merged, env_file, each included project's own .env", () => {
    expect(published("include")).toEqual([
      "web 6000 compose.yaml:15",
      "db 5433 db/compose.yaml:5", // DB_PORT=5433 from db/.env
      "cache 6379 cache/compose.yaml:5",
      "cache 6380 cache/compose.dev.yaml:4",
      "tools 9100 tools/compose.yaml:5", // TOOLS_PORT from env_file tools/tools.env
    ]);
  });

  test("the including project's environment wins over the included .env", () => {
    expect(published("include", { DB_PORT: "6543" })).toContain("db 6543 db/compose.yaml:5");
  });

  test("scanning the tree lists the included projects once, as part of the project", () => {
    const ports = scanProject(join(ROOT, "include")).findings.map((f) => `${f.port} ${f.source}`);
    expect(ports).toEqual([
      "6000 compose.yaml:15",
      "5433 db/compose.yaml:5",
      "6379 cache/compose.yaml:5",
      "6380 cache/compose.dev.yaml:4",
      "9100 tools/compose.yaml:5",
      // db/.env's DB_PORT=5433 is the port db/compose.yaml publishes: listed once, above
    ]);
  });
});

describe("override files and COMPOSE_FILE", () => {
  test("compose.override.yaml: appended, an equal entry once, !override replaces, !reset clears", () => {
    expect(published("override")).toEqual([
      "web 8080 compose.yaml:5",
      "web 8081 compose.override.yaml:5",
      "api 9001 compose.override.yaml:8",
      // db: ports: !reset []
      "cache 6379 compose.yaml:17",
      "debug 9229 compose.override.yaml:17",
    ]);
  });

  test("docker-compose.yml + docker-compose.override.yml", () => {
    expect(published("legacy-override")).toEqual([
      "web 8080 docker-compose.yml:5",
      "web 8081 docker-compose.override.yml:4",
    ]);
  });

  test("COMPOSE_FILE in .env selects the files (no override file then); the environment's wins", () => {
    expect(published("compose-file")).toEqual([
      "web 8080 compose.yaml:5",
      "grafana 3000 ops/monitoring.yml:5",
    ]);
    expect(
      published("compose-file", {
        COMPOSE_FILE: "compose.yaml;compose.override.yaml",
        COMPOSE_PATH_SEPARATOR: ";",
      }),
    ).toEqual(["web 8080 compose.yaml:5", "web 8082 compose.override.yaml:4"]);
  });
});

test(".env values refer to the environment and to earlier keys; single quotes keep them literal", () => {
  // COMPOSE_FILE="${COMPOSE_FILE:-dev/compose.yaml}" picks dev/compose.yaml; WEB_PORT=${BASE}00
  expect(published("dotenv")).toEqual(["web 7400 dev/compose.yaml:5"]);
  expect(problems("dotenv")).toEqual([
    {
      source: "dev/compose.yaml:6",
      message: 'web: "${LITERAL}:81": the value of LITERAL is not a port or port range',
      severity: "warning",
    },
  ]);
  // the environment wins over .env for the key itself
  expect(published("dotenv", { WEB_PORT: "7501" })).toEqual(["web 7501 dev/compose.yaml:5"]);
});

test("a stream of documents merges as override files do", () => {
  expect(published("multidoc")).toEqual([
    "web 8080 compose.yaml:6",
    "web 8081 compose.yaml:11",
    "worker 9000 compose.yaml:15",
  ]);
});

describe("edges", () => {
  test("!override and !reset on a whole service", () => {
    const p = model(
      'services:\n  a:\n    ports: ["1001:1"]\n  b:\n    ports: ["1002:2"]\n---\nservices:\n  a: !override\n    ports: ["1003:3"]\n  b: !reset {}\n',
    );
    expect(p.services.map((s) => [s.name, s.ports.map((x) => x.host)])).toEqual([["a", [1003]]]);
  });

  test("an include cycle is one error line, not a hang", () => {
    const p = model("include: [other.yaml]\nservices: {}\n", {
      "/project/other.yaml": "include: [compose.yaml]\nservices:\n  o:\n    ports: ['1:1']\n",
    });
    expect(p.problems).toEqual([
      { source: "other.yaml", message: "include: compose.yaml includes itself", severity: "error" },
    ]);
    expect(p.services.map((s) => s.name)).toEqual(["o"]);
  });

  test("a file COMPOSE_FILE names that is missing: an error naming it", () => {
    const p = loadComposeProject(["/nowhere/compose.yaml"], { env: {} });
    expect(p.problems).toEqual([
      { source: "/nowhere/compose.yaml", message: "no such file", severity: "error" },
    ]);
  });
});

/** A one-file project from text, read through an in-memory file system. */
function model(text: string, others: Record<string, string> = {}): ComposeProject {
  const file = "/project/compose.yaml";
  const files: Record<string, string> = { [file]: text, ...others };
  return loadComposeProject([file], {
    env: {},
    read: (p) => {
      const found = files[p];
      if (found !== undefined) return found;
      throw Object.assign(new Error("no such file"), { code: "ENOENT" });
    },
    label: (p) => relative("/project", p),
  });
}

describe("files a hostile repository points at", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "scan-hostile-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("extends from a FIFO or a device: an error line, never a hang", () => {
    const fifo = join(dir, "pipe.yaml");
    Bun.spawnSync(["mkfifo", fifo]);
    writeFileSync(
      join(dir, "compose.yaml"),
      "services:\n  a:\n    extends: {file: pipe.yaml, service: x}\n  b:\n    extends: {file: /dev/zero, service: x}\n",
    );
    const p = composeProjectAt(dir, { env: {}, label: (f) => relative(dir, f) }) as ComposeProject;
    expect(p.problems).toEqual([
      { source: "pipe.yaml", message: "not a regular file", severity: "error" },
      { source: relative(dir, "/dev/zero"), message: "not a regular file", severity: "error" },
    ]);
  });
});
