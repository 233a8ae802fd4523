// With --json, stdout is always one JSON document, success or failure: the error as the API
// shapes it ({"error","code",…}) where there is one, the whole answer where there is not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { type CliFixture, type CliRun, cliFixture } from "../helpers/cli.ts";

const FIXTURES = join(import.meta.dir, "../fixtures");

let f: CliFixture;
let pg: Allocation;
beforeAll(async () => {
  f = await cliFixture("myapp");
  pg = await f.alloc("--instance", "dev", "--service", "pg");
});
afterAll(() => f.close());

/** stdout parsed as one document (fails the test when it is not exactly one). */
function document(run: CliRun): Record<string, unknown> {
  return JSON.parse(run.out.join("\n")) as Record<string, unknown>;
}

describe("failures", () => {
  test("release that matches nothing: the not_found error, not {deleted: 0}", async () => {
    const run = await f.run(["release", "--app", "nope", "--json"]);
    expect(run.code).toBe(1);
    expect(document(run)).toEqual({ error: "no allocations match app=nope", code: "not_found" });
    expect(run.err).toEqual(["error: no allocations match app=nope"]);
    expect(await f.allocations()).toEqual([pg]);
  });

  test("allocate --reuse --port of another port: the error carries the holder", async () => {
    const other = pg.port + 1;
    const argv = ["allocate", "--reuse", "--instance", "dev", "--service", "pg"];
    const run = await f.run([...argv, "--port", String(other), "--json"]);
    expect(run.code).toBe(1);
    expect(document(run)).toEqual({
      error: "service already allocated",
      code: "service_allocated",
      holder: pg,
      requested_port: other,
    });
    expect(run.err).toEqual([
      `error: myapp/dev/pg (id=${pg.id}) already has port ${pg.port}, not ${other}; release it first to move it`,
    ]);
    expect(await f.allocations()).toEqual([pg]);
  });

  test("env --format dotenv --json is a contradiction, reported as JSON", async () => {
    const run = await f.run(["env", "--format", "dotenv", "--json"]);
    expect(run.code).toBe(1);
    expect(document(run)).toMatchObject({ code: "bad_request" });
  });

  test("env --json: the keys as JSON, never dotenv", async () => {
    const run = await f.run(["env", "--instance", "dev", "--json"]);
    expect(run.code).toBe(0);
    expect(document(run)).toEqual({ PG_PORT: pg.port });
  });
});

describe("scan --json: findings and the files it could not read, in one document", () => {
  test("a broken project: errors in the document (and on stderr), exit 1", async () => {
    const run = await f.run(["scan", "--json", join(FIXTURES, "broken")]);
    expect(run.code).toBe(1);
    const doc = document(run) as {
      findings: unknown[];
      errors: { source: string; message: string }[];
    };
    expect(Object.keys(doc).sort()).toEqual(["errors", "findings", "not_scanned", "warnings"]);
    expect(doc.errors.length).toBeGreaterThan(0);
    for (const e of doc.errors) {
      expect(e).toEqual({ source: expect.any(String), message: expect.any(String) });
      expect(run.err.some((line) => line.includes(e.source))).toBe(true);
    }
  });

  test("a clean project: errors is empty, exit 0", async () => {
    const run = await f.run(["scan", "--json", join(FIXTURES, "compose-forms")]);
    expect(run.code).toBe(0);
    expect(document(run)).toMatchObject({ errors: [] });
  });
});
