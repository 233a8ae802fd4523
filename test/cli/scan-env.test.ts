// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose `${VAR}` syntax, not templates
// `portctl scan`, `env` and `allocate --reuse` against a real daemon in a temp home: exit codes,
// exact lines, --json shapes, registering twice, and `env --write` keeping the user's file.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { envEntries, mergeDotenv } from "../../src/cli/envfile.ts";
import type { Allocation } from "../../src/core/model.ts";
import { scanProject } from "../../src/core/scan/index.ts";
import { type CliFixture, cliFixture, freePort } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";
import { UNOWNED } from "../helpers/fakes.ts";
import { readOnly } from "../helpers/immutable.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");

let f: CliFixture;
beforeEach(async () => {
  f = await cliFixture("myapp");
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

describe("scan", () => {
  test("a clean project: a table of what it found, exit 0, nothing registered", async () => {
    expect(await f.run(["scan", join(FIXTURES, "scripts")])).toEqual({
      code: 0,
      out: [
        "PORT  SERVICE        PROTOCOL  SOURCE",
        "5173  web            tcp       package.json:6",
        "6006  web-storybook  tcp       package.json:7",
        "4200  web-ng         tcp       package.json:8",
        "3001  web-api        tcp       package.json:9",
        "8081  web-db         tcp       package.json:10",
        "5174  web-both       tcp       package.json:11",
        "3002  web-both-2     tcp       package.json:11",
      ],
      err: [],
    });
    expect(await f.allocations()).toEqual([]);
  });

  test("broken files: the others' findings still printed, file:line:col on stderr, exit 1", async () => {
    expect(await f.run(["scan", join(FIXTURES, "broken")])).toEqual({
      code: 1,
      out: [
        "PORT   SERVICE  PROTOCOL  SOURCE",
        "11211  cache    tcp       nested/compose.yaml:4",
        "6379   redis    tcp       .env:2",
      ],
      err: [
        "error: docker-compose.yml:6:3: Flow sequence in block collection must be sufficiently indented and end with a ]",
        'error: package.json:5:31: invalid JSON: unexpected "o"',
      ],
    });
  });

  test("--json: the findings, each with port, service, source file:line and protocol", async () => {
    const dir = join(FIXTURES, "compose-forms");
    const run = await f.run(["scan", "--json", dir]);
    expect(run.code).toBe(0); // warnings do not fail the scan
    const { findings: printed, errors } = JSON.parse(run.out.join("\n")) as {
      findings: Record<string, unknown>[];
      errors: unknown[];
    };
    expect(errors).toEqual([]);
    expect(printed).toEqual(JSON.parse(JSON.stringify(scanProject(dir, f.env).findings)));
    expect(printed).toHaveLength(19);
    for (const finding of printed) {
      expect(finding).toMatchObject({
        port: expect.any(Number),
        service: expect.any(String),
        source: expect.stringMatching(/^[\w./-]+:\d+$/),
        protocol: expect.stringMatching(/^(tcp|udp)$/),
      });
    }
    expect(run.err).toEqual([
      'warning: docker-compose.yml:12: short: "8000-9000:80": a host range for one container port lets Docker pick; register the port it uses',
      'warning: docker-compose.yml:44: vars: "${UNSET_PORT}:4200": UNSET_PORT not set and no default',
      'warning: docker-compose.yml:45: vars: "$${HOME}:4300": "${HOME}" is not a port or port range',
    ]);
  });

  test("a folder with nothing in it, and one that does not exist", async () => {
    expect(await f.run(["scan"])).toEqual({
      code: 0,
      out: [`no host-bound ports found in ${f.cwd}`],
      err: [],
    });
    expect(await f.run(["scan", "nope"])).toEqual({
      code: 1,
      out: [],
      err: [`error: no such folder: ${join(f.cwd, "nope")}`],
    });
  });
});

describe("scan: one port, said twice", () => {
  test("Compose and its .env name the same port: listed once, from Compose; another folder's stays", async () => {
    writeFileSync(
      join(f.cwd, "docker-compose.yml"),
      'services:\n  web:\n    ports:\n      - "${WEB_PORT:-8080}:80"\n',
    );
    writeFileSync(join(f.cwd, ".env"), "WEB_PORT=8080\nREDIS_PORT=6379\n");
    mkdirSync(join(f.cwd, "tools"));
    writeFileSync(join(f.cwd, "tools", ".env"), "PROXY_PORT=8080\n");
    expect(await f.run(["scan"])).toEqual({
      code: 0,
      out: [
        "PORT  SERVICE  PROTOCOL  SOURCE",
        "8080  web      tcp       docker-compose.yml:4",
        "6379  redis    tcp       .env:2",
        "8080  proxy    tcp       tools/.env:1",
      ],
      err: [],
    });
  });
});

describe("scan --register", () => {
  // Ports nothing listens on now (a fixed 5432 may be some other test's or the machine's): a
  // listener there would be named on the registered line, or refused as a stranger's.
  let db = 0;
  let web = 0;
  let redis = 0;
  /** A project in the fixture's cwd: db and web in Compose, web again and redis in .env. */
  beforeEach(() => {
    [db, web, redis] = [freePort(), freePort(), freePort()];
    writeFileSync(
      join(f.cwd, "docker-compose.yml"),
      `services:\n  db:\n    ports:\n      - "${db}:5432"\n  web:\n    ports:\n      - "\${WEB_PORT:-${web}}:80"\n`,
    );
    writeFileSync(join(f.cwd, ".env"), `WEB_PORT=${web}\nREDIS_PORT=${redis}\n`);
  });

  test("twice: registers each port once, then reports them as existing", async () => {
    expect(await f.run(["scan", "--register"])).toEqual({
      code: 0,
      out: [
        `registered port ${db} (id=1) for myapp/default/db  [docker-compose.yml:4]`,
        `registered port ${web} (id=2) for myapp/default/web  [docker-compose.yml:7]`,
        `registered port ${redis} (id=3) for myapp/default/redis  [.env:2]`,
      ],
      err: [],
    });
    const registered = await f.allocations();
    expect(registered.map((a) => [a.id, a.app, a.instance, a.service, a.port])).toEqual([
      [1, "myapp", "default", "db", db],
      [2, "myapp", "default", "web", web],
      [3, "myapp", "default", "redis", redis],
    ]);

    const again = await f.run(["scan", "--register", "--json"]);
    expect(again.code).toBe(0);
    const results = (
      JSON.parse(again.out.join("\n")) as { registrations: Record<string, unknown>[] }
    ).registrations;
    expect(results.map((r) => [r.port, r.result, r.allocation])).toEqual([
      [db, "exists", registered[0]],
      [web, "exists", registered[1]],
      [redis, "exists", registered[2]],
    ]);
    expect(await f.allocations()).toEqual(registered);
  });

  test("a port another app holds: reported with its holder, the rest registered, exit 1", async () => {
    const holder = await f.alloc("--app", "other", "--service", "cache", "--port", String(redis));
    const run = await f.run(["scan", "--register", "--instance", "dev"]);
    expect(run).toEqual({
      code: 1,
      out: [
        `registered port ${db} (id=2) for myapp/dev/db  [docker-compose.yml:4]`,
        `registered port ${web} (id=3) for myapp/dev/web  [docker-compose.yml:7]`,
        `conflict: port ${redis} for myapp/dev/redis  [.env:2]: held by other/default/cache (id=1)`,
      ],
      err: [],
    });
    const rows = await f.allocations();
    expect(rows.map((a) => `${a.app}/${a.instance}/${a.service}:${a.port}`)).toEqual([
      `other/default/cache:${redis}`,
      `myapp/dev/db:${db}`,
      `myapp/dev/web:${web}`,
    ]);
    expect(rows[0]).toEqual(holder);
  });
});

describe("env", () => {
  let pg: Allocation;
  let api: Allocation;
  beforeEach(async () => {
    pg = await f.alloc("--instance", "dev", "--service", "postgres");
    api = await f.alloc("--instance", "dev", "--service", "web-api");
    await f.alloc("--instance", "ci", "--service", "postgres");
    await f.alloc("--app", "other", "--instance", "dev", "--service", "redis");
  });

  test("dotenv (the default), export and json: this app/instance only", async () => {
    const lines = [`POSTGRES_PORT=${pg.port}`, `WEB_API_PORT=${api.port}`];
    const ok = (out: string[]) => ({ code: 0, out, err: [] });
    expect(await f.run(["env", "--instance", "dev"])).toEqual(ok(lines));
    expect(await f.run(["env", "--instance", "dev", "--format", "dotenv"])).toEqual(ok(lines));
    expect(await f.run(["env", "--instance", "dev", "--format", "export"])).toEqual(
      ok(lines.map((l) => `export ${l}`)),
    );
    const json = await f.run(["env", "--instance", "dev", "--format", "json"]);
    expect(json).toEqual(
      ok([JSON.stringify({ POSTGRES_PORT: pg.port, WEB_API_PORT: api.port }, null, 2)]),
    );
  });

  test("no allocations: says so on stderr, prints nothing, exit 0", async () => {
    expect(await f.run(["env", "--instance", "nothing"])).toEqual({
      code: 0,
      out: [],
      err: ["no allocations for myapp/nothing"],
    });
  });

  test("an unknown format is refused by the parser", async () => {
    const run = await f.run(["env", "--format", "yaml"]);
    expect(run.code).toBe(1);
    expect(run.err[0]).toContain("choose one of dotenv, export, json");
  });

  test("--write updates our keys and keeps every other line, comment and the mode", async () => {
    const path = join(f.cwd, ".env");
    const before = [
      "# Local settings — keep me",
      "export POSTGRES_PORT=1111   # main database",
      "",
      "DATABASE_URL=postgres://localhost:1111/app",
      "# WEB_API_PORT=1 is a comment, not a key",
      "  UNRELATED = yes",
      "",
    ].join("\n");
    writeFileSync(path, before);
    chmodSync(path, 0o666); // wider than the umask allows a new file
    const run = await f.run(["env", "--instance", "dev", "--write", ".env"]);
    expect(run).toEqual({ code: 0, out: ["wrote 2 ports of myapp/dev to .env"], err: [] });
    const after = [
      "# Local settings — keep me",
      `export POSTGRES_PORT=${pg.port}   # main database`,
      "",
      "DATABASE_URL=postgres://localhost:1111/app",
      "# WEB_API_PORT=1 is a comment, not a key",
      "  UNRELATED = yes",
      `WEB_API_PORT=${api.port}`,
      "",
    ].join("\n");
    expect(readFileSync(path, "utf8")).toBe(after);
    expect(statSync(path).mode & 0o777).toBe(0o666);

    await f.run(["env", "--instance", "dev", "--write", ".env"]);
    expect(readFileSync(path, "utf8")).toBe(after);
    expect(readdirSync(f.cwd)).toEqual([".env"]);
  });

  test("--write to a file that does not exist yet creates it", async () => {
    const run = await f.run(["env", "--instance", "dev", "--write", "ports.env"]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(f.cwd, "ports.env"), "utf8")).toBe(
      `POSTGRES_PORT=${pg.port}\nWEB_API_PORT=${api.port}\n`,
    );
  });

  test("--write into a missing folder: one line, exit 1, nothing created", async () => {
    const run = await f.run(["env", "--instance", "dev", "--write", "missing/.env"]);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: [`error: cannot write ${join(f.cwd, "missing/.env")}: no such folder`],
    });
    expect(readdirSync(f.cwd)).toEqual([]);
  });

  test("--write onto a folder: one line, exit 1, the folder untouched", async () => {
    mkdirSync(join(f.cwd, "conf"));
    writeFileSync(join(f.cwd, "conf", "keep"), "x");
    const run = await f.run(["env", "--instance", "dev", "--write", "conf"]);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: [`error: cannot write ${join(f.cwd, "conf")}: it is a folder`],
    });
    expect(readdirSync(f.cwd)).toEqual(["conf"]);
    expect(readdirSync(join(f.cwd, "conf"))).toEqual(["keep"]);
  });

  test("--write to a read-only file: untouched", async () => {
    const path = join(f.cwd, ".env");
    writeFileSync(path, "# mine\n");
    const undo = readOnly(path);
    if (!undo) {
      console.log("skip: chattr +i is not available here and root writes through file modes");
      return;
    }
    try {
      const run = await f.run(["env", "--instance", "dev", "--write", ".env"]);
      expect(run).toEqual({
        code: 1,
        out: [],
        err: [`error: cannot write ${path}: permission denied`],
      });
      expect(readFileSync(path, "utf8")).toBe("# mine\n");
      expect(readdirSync(f.cwd)).toEqual([".env"]);
    } finally {
      undo();
    }
  });
});

describe("mergeDotenv", () => {
  test.each<[string, string, string]>([
    ["empty file", "", "A_PORT=1\n"],
    ["no final newline", "X=1", "X=1\nA_PORT=1\n"],
    ["CRLF kept", "X=1\r\nA_PORT=9\r\n", "X=1\r\nA_PORT=1\r\n"],
    ["quoted value with comment", 'A_PORT="9" # db\n', "A_PORT=1 # db\n"],
    ["spaces around =", "A_PORT = 9\n", "A_PORT = 1\n"],
    ["comment right after =", "A_PORT=#todo\n", "A_PORT=1 #todo\n"],
    ["defined twice: both", "A_PORT=8\nA_PORT=9\n", "A_PORT=1\nA_PORT=1\n"],
    ["a longer key is another key", "A_PORT_X=9\n", "A_PORT_X=9\nA_PORT=1\n"],
  ])("%s", (_, text, merged) => {
    expect(mergeDotenv(text, [["A_PORT", 1]])).toBe(merged);
  });
});

describe("scan --register and listeners", () => {
  test("a port its own checkout's process listens on is registered, saying who", async () => {
    const project = join(f.cwd, "live");
    mkdirSync(project);
    // A server started in the project's folder: its working folder is inside the checkout.
    const server = Bun.spawn(
      [
        process.execPath,
        "-e",
        "const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } }); console.log(l.port);",
      ],
      { cwd: project, stdout: "pipe", stderr: "inherit" },
    );
    try {
      const reader = server.stdout.getReader();
      const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
      writeFileSync(join(project, "package.json"), `{"scripts": {"dev": "vite --port ${port}"}}\n`);
      const run = await f.run(["scan", "--register", project]);
      expect(run.code).toBe(0);
      expect(run.out).toHaveLength(1);
      expect(run.out[0]).toMatch(
        new RegExp(
          `^registered port ${port} \\(id=\\d+\\) for live/default/web  \\[package.json:1\\]; listening now by .+ \\(pid ${server.pid}\\)$`,
        ),
      );
    } finally {
      server.kill("SIGKILL");
      await server.exited;
    }
  });

  test("a port a process of another folder listens on is a conflict naming it, not registered", async () => {
    // This test's own process works in the repository, not in the scanned project.
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const port = listener.port;
      const project = join(f.cwd, "stranger");
      mkdirSync(project);
      writeFileSync(join(project, "package.json"), `{"scripts": {"dev": "vite --port ${port}"}}\n`);
      const run = await f.run(["scan", "--register", project]);
      expect(run.code).toBe(1);
      expect(run.out).toEqual([
        expect.stringMatching(
          new RegExp(
            `^conflict: port ${port} for stranger/default/web  \\[package.json:1\\]: port ${port} is in use on this machine by .+ \\(pid ${process.pid}\\), not registered$`,
          ),
        ),
      ]);
      expect((await f.run(["list", "--json", "--all"])).out.join("")).not.toContain(`${port}`);
    } finally {
      listener.stop(true);
    }
  });
});

describe("envEntries", () => {
  const a = (id: number, service: string, port: number, url: string | null = null) => ({
    id,
    app: "a",
    instance: "i",
    service,
    port,
    created_at: "2025-02-08T15:04:05Z",
    ...UNOWNED,
    name: `${service}.a.localhost`,
    url,
  });

  test("service names become keys", () => {
    expect(envEntries([a(1, "postgres", 3000), a(2, "web-api", 3001)])).toEqual([
      ["POSTGRES_PORT", 3000],
      ["WEB_API_PORT", 3001],
    ]);
  });

  test("a service that serves HTTP also gets its URL; a database never does", () => {
    const api = a(2, "web-api", 3001, "http://web-api.a.localhost:2080");
    expect(envEntries([a(1, "postgres", 3000), api])).toEqual([
      ["POSTGRES_PORT", 3000],
      ["WEB_API_PORT", 3001],
      ["WEB_API_URL", "http://web-api.a.localhost:2080"],
    ]);
  });

  test("two services that map to one key are an error, not a lost port", () => {
    expect(() => envEntries([a(1, "web-api", 3003), a(2, "web_api", 3006)])).toThrow(
      "services web-api and web_api both map to WEB_API_PORT; rename one",
    );
  });
});

describe("allocate --reuse", () => {
  test("twice: the same allocation, exit 0 both times", async () => {
    const argv = ["allocate", "--reuse", "--json", "--instance", "dev", "--service", "pg"];
    const first = await f.run(argv);
    const second = await f.run(argv);
    expect(first.code).toBe(0);
    expect(second).toEqual({ code: 0, out: first.out, err: [] });
    expect(await f.allocations()).toEqual([JSON.parse(first.out.join("\n"))]);
  });

  test("with --port of another port: exit 1 naming the holder, nothing changed", async () => {
    const pg = await f.alloc("--instance", "dev", "--service", "pg");
    const other = String(pg.port + 1);
    const run = await f.run([
      "allocate",
      "--reuse",
      "--instance",
      "dev",
      "--service",
      "pg",
      "--port",
      other,
    ]);
    expect(run).toEqual({
      code: 1,
      out: [],
      err: [
        `error: myapp/dev/pg (id=1) already has port ${pg.port}, not ${other}; release it first to move it`,
      ],
    });
    expect(await f.allocations()).toEqual([pg]);
  });

  test("without --reuse, --json: the API's error object on stdout, the line on stderr", async () => {
    const pg = await f.alloc("--instance", "dev", "--service", "pg");
    const run = await f.run(["allocate", "--json", "--instance", "dev", "--service", "pg"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out.join("\n"))).toEqual({
      error: "service already allocated",
      code: "service_allocated",
      holder: pg,
    });
    expect(run.err).toEqual([
      "error: myapp/dev/pg (id=1) already has port " +
        `${pg.port}; pass --reuse to get it back, or release it first`,
    ]);
    expect(await f.allocations()).toEqual([pg]);
  });
});
