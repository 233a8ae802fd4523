// Exploit 3 of issue #11 and its kin: text from outside (server replies, a cloned repository's
// files, folder names, process names) never reaches a terminal raw. `safe` is the one helper;
// these tests drive every human-readable command against a server whose every string is hostile.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { safe } from "../../src/cli/output.ts";
import { table } from "../../src/cli/table.ts";
import { type CliRun, runWith } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import { EVIL, evilAllocation, type Impostor, impostor, RAW_CONTROL } from "../helpers/impostor.ts";

describe("safe", () => {
  test.each([
    ["web\u001b]0;PWNED\u0007", "web\\x1b]0;PWNED\\x07"],
    ["\u009b31m", "\\x9b31m"],
    ["del\u007f", "del\\x7f"],
    ["line\nbreak\ttab\r", "line\\x0abreak\\x09tab\\x0d"],
    ["abc\u202eevil\u2066\u061c", "abc\\u202eevil\\u2066\\u061c"],
    ["name\u{e0041}\u{e007f}", "name\\u{e0041}\\u{e007f}"],
    [
      "zero\u200bwidth\ufeff\u2060\u00ad\u3164",
      "zero\\u200bwidth\\ufeff\\u2060\\x00ad\\u3164".replace("\\x00ad", "\\xad"),
    ],
    ["sep\u2028\u2029", "sep\\u2028\\u2029"],
    ["lone\ud800", "lone\\ud800"],
  ])("%j is shown as %s", (raw, shown) => {
    expect(safe(raw)).toBe(shown);
  });

  test("ordinary text, accents, emoji (ZWJ sequences included) and backslashes are unchanged", () => {
    for (const text of ["café", "日本語", "👨‍👩‍👧", "C:\\x1b", "a b", "ٱلْعَرَبِيَّة"]) {
      expect(safe(text)).toBe(text);
    }
  });

  test("escaping twice changes nothing; numbers and missing values are text", () => {
    expect(safe(safe(EVIL))).toBe(safe(EVIL));
    expect(safe(3000)).toBe("3000");
    expect(safe(undefined)).toBe("");
  });

  test("table cells are escaped before they are padded", () => {
    const lines = table([{ a: "x\u001by" }], [{ header: "A", value: (r) => r.a }], PLAIN);
    expect(lines).toEqual(["A", "x\\x1by"]);
  });
});

describe("every human-readable command, against a hostile server", () => {
  let home: TempHome;
  let fake: Impostor;
  const run = (argv: string[], cwd = home.root): Promise<CliRun> =>
    runWith(argv, {
      env: { ...home.env, PORT_SERVER_ADDR: `127.0.0.1:${fake.port}` },
      cwd,
      home: home.root,
    });
  const health = {
    status: "ok",
    pid: 999_999_999,
    version: EVIL,
    db: EVIL,
    range: EVIL,
    exclude: [EVIL],
  };

  beforeAll(() => {
    home = tempHome("portctl-escape-");
    fake = impostor({
      health,
      other: async (req) => {
        const url = new URL(req.url);
        if (req.method === "GET" && url.pathname === "/v1/allocations")
          return { status: 200, body: [evilAllocation()] };
        if (url.pathname === "/v1/ports/4000")
          return {
            status: 200,
            body: {
              port: 4000,
              available: false,
              holder: evilAllocation(),
              system: { in_use: true, pid: 5, process: EVIL },
            },
          };
        if (url.pathname === "/v1/ports/4001")
          return {
            status: 200,
            body: { port: 4001, available: false, system: { in_use: true, pid: 5, process: EVIL } },
          };
        // A container engine's text, through the daemon: every field of the container hostile.
        if (url.pathname === "/v1/ports/4003")
          return { status: 200, body: { port: 4003, available: false, system: evilSystem() } };
        // …and of the wrong types: printed as text, never a crash.
        if (url.pathname === "/v1/ports/4004")
          return {
            status: 200,
            body: {
              port: 4004,
              available: false,
              system: {
                in_use: true,
                container: { name: 5, project: [EVIL], working_dir: { EVIL } },
              },
            },
          };
        if (url.pathname === "/v1/listeners")
          return { status: 200, body: [{ port: evilAllocation().port, ...evilSystem() }] };
        if (
          req.method === "POST" &&
          url.pathname === "/v1/allocations" &&
          !url.searchParams.has("adopt")
        ) {
          const body = (await req.json()) as { port?: number };
          if (body.port === 4003)
            return {
              status: 409,
              body: { error: EVIL, code: "port_in_use", port: 4003, system: evilSystem() },
            };
        }
        if (url.pathname === "/v1/ports/4002")
          return {
            status: 200,
            body: {
              port: 4002,
              available: true,
              system: { in_use: false },
              last_event: { ...evilEvent(), kind: "toString" },
            },
          };
        if (url.pathname === "/v1/events") return { status: 200, body: [evilEvent()] };
        if (url.pathname === "/v1/prune") {
          const candidate = { allocation: evilAllocation(), cause: "checkout_gone", reason: EVIL };
          const kept = { ...candidate, system: evilSystem() };
          const dryRun = ((await req.json()) as { dry_run?: boolean }).dry_run === true;
          return {
            status: 200,
            body: { dry_run: dryRun, candidates: [candidate], kept: [kept] },
          };
        }
        if (req.method === "POST" && url.searchParams.has("adopt"))
          return {
            status: 409,
            body: { error: EVIL, code: "port_allocated", holder: evilAllocation() },
          };
        if (req.method === "POST") return { status: 201, body: evilAllocation() };
        return { status: 400, body: { error: `bad ${EVIL}`, code: "bad_request" } };
      },
    });
  });
  afterAll(() => {
    fake.stop();
    home.cleanup();
  });

  test.each(
    [
      ["status"],
      ["health"],
      ["list", "--all"],
      ["list", "--app", "nothing"],
      ["check", "--port", "4000"],
      ["check", "--port", "4001"],
      ["allocate", "--service", "web"],
      ["release", "--port", "4000"],
      ["env", "--app", "a", "--instance", "b"],
      ["history"],
      ["prune"],
      ["prune", "--yes"],
      ["check", "--port", "4003"],
      ["check", "--port", "4004"],
      ["list", "--all", "-l"],
      ["allocate", "--service", "web", "--port", "4003"],
    ].map((argv) => [argv.join(" "), argv] as const),
  )("portctl %s: no raw control character on stdout or stderr", async (_name, argv) => {
    expectEscaped(await run([...argv]));
  });

  test("check and allocate name a hostile container escaped; wrong types print as text", async () => {
    const shown = safe(EVIL);
    const check = await run(["check", "--port", "4003"]);
    expect(check.out).toEqual([
      `port 4003 is in use by container ${shown} (Compose project ${shown}, /home/x/${shown}), not registered`,
    ]);
    const refused = await run(["allocate", "--service", "web", "--port", "4003"]);
    expect(refused.err).toEqual([`error: ${check.out[0]}`]);
    const odd = await run(["check", "--port", "4004"]);
    expect(odd.out).toEqual([
      "port 4004 is in use by container 5 (Compose project " +
        safe(String([EVIL])) +
        ", [object Object]), not registered",
    ]);
  });

  test("check: an event kind it does not know (an inherited name included) is not described", async () => {
    const r = await run(["check", "--port", "4002"]);
    expect(r.out).toEqual(["port 4002 is available"]);
  });

  test("status --json still prints the reply exactly", async () => {
    const r = await run(["status", "--json"]);
    expect(JSON.parse(r.out.join("\n")).health).toEqual(health);
  });

  test("list --json still prints the names exactly, invisible characters included", async () => {
    const r = await run(["list", "--all", "--json"]);
    expect(JSON.parse(r.out.join("\n"))).toEqual([evilAllocation()]);
  });

  test("scan of a hostile repository (names, values, folder names) prints them escaped", async () => {
    const repo = join(home.root, `repo${EVIL}`);
    mkdirSync(repo);
    // YAML's "\e" and "\a" are ESC and BEL: a service name that sets the terminal's title.
    writeFileSync(
      join(repo, "compose.yaml"),
      'services:\n  "web\\e]0;PWNED\\a":\n    ports: ["8080:80", "\\e]52;c;eA==\\a:80"]\n',
    );
    writeFileSync(
      join(repo, "package.json"),
      JSON.stringify({ scripts: { [`dev${EVIL}`]: "vite --port 5173" } }),
    );
    const scanned = await run(["scan", repo]);
    expectEscaped(scanned);
    expect(scanned.out.join("\n")).toContain("web\\x1b]0;PWNED\\x07");
    const registered = await run(["scan", "--register", "--app", "a", "--instance", "b", repo]);
    expect(registered.out.length).toBeGreaterThan(0);
    expectEscaped(registered);
    const empty = join(home.root, `empty${EVIL}`);
    mkdirSync(empty);
    expectEscaped(await run(["scan", empty]));
  });

  test("skill install in a folder whose name carries escapes", async () => {
    const project = join(home.root, `proj${EVIL}`);
    mkdirSync(project);
    const r = await run(["skill", "install"], project);
    expect(r.code).toBe(0);
    expectEscaped(r);
  });

  test("an unknown option typed with escapes (commander's own message) is escaped", async () => {
    expectEscaped(await run(["list", `--x${EVIL}`]));
  });
});

// --- internal ---

/** A port an engine's proxy holds, published by a container whose every string is hostile. */
function evilSystem() {
  return {
    in_use: true,
    pid: 5,
    process: "docker-proxy",
    container: {
      id: EVIL,
      name: EVIL,
      project: EVIL,
      working_dir: `/home/x/${EVIL}`,
      service: EVIL,
    },
  };
}

function evilEvent() {
  const a = evilAllocation();
  return {
    id: 1,
    at: "2025-02-08T15:04:05Z",
    kind: "allocated",
    app: a.app,
    instance: a.instance,
    service: a.service,
    port: a.port,
    checkout: `/home/x/${EVIL}`,
    pid: 5,
    reason: EVIL,
  };
}

const same = (t: string) => t;
const PLAIN = { bold: same, dim: same, green: same, yellow: same, red: same };

function expectEscaped(r: CliRun): void {
  const lines = [...r.out, ...r.err];
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    if (RAW_CONTROL.test(line))
      throw new Error(`raw control character in: ${JSON.stringify(line)}`);
  }
}
