// The skill quotes portctl's own lines so that an agent can recognise them: every line it quotes
// must be one the CLI really prints (numbers, names and process names aside), produced here by
// running the CLI against a daemon. A reworded message fails this test until the skill follows.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CliFixture, cliFixture, freePort } from "../helpers/cli.ts";

const SKILL_DIR = join(import.meta.dir, "../../src/skill/port-manager");
const SKILL_TEXT = ["SKILL.md", "references/WORKFLOW.md"]
  .map((file) => readFileSync(join(SKILL_DIR, file), "utf8"))
  .join("\n");

/** A quoted span that is one of portctl's lines (not a command, not a file name). */
const CLI_LINE =
  /^(error: |port \d+ is |allocated port |reusing port |released |no allocations |[^\s/`]+\/[^\s/`]+\/[^\s/`]+ \(id=)/;

let f: CliFixture;
let printed: string[];
let listener: { port: number; stop(closeActive?: boolean): void };

beforeAll(async () => {
  f = await cliFixture("myapp");
  listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const held = await f.alloc("--app", "billing", "--instance", "main", "--service", "postgres");
  const mine = await f.alloc("--service", "postgres");
  const runs = [
    ["allocate", "--service", "web"],
    ["allocate", "--reuse", "--service", "web"],
    ["allocate", "--service", "db", "--port", String(held.port)],
    ["allocate", "--service", "db", "--port", String(listener.port)],
    ["allocate", "--service", "postgres"],
    ["allocate", "--service", "postgres", "--port", String(freePort())],
    ["check", "--port", String(held.port)],
    ["check", "--port", String(listener.port)],
    ["check", "--port", String(freePort())],
    ["allocate", "--service", "web-api"],
    ["allocate", "--service", "web_api"],
    ["release", "--service", "web"],
    ["release", "--service", "nothing"],
  ];
  printed = [];
  for (const argv of runs) {
    const run = await f.run(argv);
    printed.push(...run.out, ...run.err);
  }
  expect(mine.port).toBeGreaterThan(0);
});

afterAll(async () => {
  listener.stop(true);
  await f.close();
});

test("every portctl line the skill quotes is one portctl prints", () => {
  const real = new Set(printed.map(shape));
  const quoted = [...SKILL_TEXT.matchAll(/`([^`\n]+)`/g)]
    .map((m) => m[1] as string)
    .filter((q) => CLI_LINE.test(q));
  expect(quoted.length).toBeGreaterThanOrEqual(8);
  for (const q of quoted) expect(`${q} → ${real.has(shape(q))}`).toBe(`${q} → true`);
});

test("the API's error texts are not quoted as if portctl printed them", () => {
  // What `--json` has in "error"; a person (and an agent reading stderr) sees other words.
  for (const apiText of [
    "port already allocated",
    "service already allocated",
    "port in use on system",
  ])
    expect(SKILL_TEXT).not.toContain(`\`${apiText}\``);
});

test("the quotes cover each allocate failure an agent must tell apart", () => {
  for (const code of ["port_allocated", "port_in_use", "service_allocated", "env_key_taken"])
    expect(SKILL_TEXT).toContain(`\`${code}\``);
});

// --- internal ---

/** The line with its particulars replaced: numbers, app/instance/service, the process name. */
function shape(line: string): string {
  return line
    .replace(/[^\s/()`]+\/[^\s/()`]+\/[^\s/()`]+/g, "A/I/S")
    .replace(/ by \S+ \(pid \d+\)/g, " by P (pid N)")
    .replace(/if it is \S+'s own server/g, "if it is S's own server")
    .replace(/\d+/g, "N");
}
