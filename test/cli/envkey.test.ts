// Service names as environment variables: accents are transliterated, and a name that cannot be
// one is refused when it is allocated, so `portctl env` never fails on it later.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { envKey, envKeyProblem } from "../../src/cli/envfile.ts";
import {
  type CliFixture,
  cliFixture,
  type Recorder,
  requestRecorder,
  runWith,
} from "../helpers/cli.ts";

describe("envKey", () => {
  test.each([
    ["postgres", "POSTGRES_PORT"],
    ["web-api", "WEB_API_PORT"],
    ["3d", "_3D_PORT"],
    ["café-api", "CAFE_API_PORT"],
    ["Straße", "STRASSE_PORT"],
    ["smørrebrød", "SMORREBROD_PORT"],
    ["Łódź", "LODZ_PORT"],
    ["ﬁle", "FILE_PORT"],
    ["Ｗｅｂ", "WEB_PORT"],
    ["数据库-db", "____DB_PORT"],
  ])("%s → %s", (service, key) => {
    expect(envKey(service)).toBe(key);
    expect(envKeyProblem(service)).toBeUndefined();
  });

  test.each(["数据库", "缓存", "🚀", "---", "Ωμέγα"])("%s has no usable key", (service) => {
    expect(envKeyProblem(service)).toContain(`portctl env would print ${envKey(service)}`);
  });
});

describe("allocate refuses a name env could not print", () => {
  let recorder: Recorder;
  beforeAll(() => {
    recorder = requestRecorder();
  });
  afterAll(() => recorder.stop());

  test("one line, exit 1, nothing sent", async () => {
    const run = await runWith(
      ["allocate", "--app", "a", "--instance", "b", "--service", "数据库"],
      {
        env: { PORT_SERVER_ADDR: `127.0.0.1:${recorder.port}` },
        cwd: "/",
        home: "/nonexistent",
      },
    );
    expect(run.code).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toEqual([
      "error: service name '数据库' cannot be an environment variable: it has no Latin letter or digit (portctl env would print ____PORT); choose a name that has one",
    ]);
    expect(recorder.requests).toEqual([]);
  });
});

describe("against a daemon", () => {
  let f: CliFixture;
  beforeAll(async () => {
    f = await cliFixture("myapp");
  });
  afterAll(() => f.close());

  test("two CJK names: neither recorded, and env still works", async () => {
    const cafe = await f.alloc("--service", "café-api");
    for (const service of ["数据库", "缓存"]) {
      const run = await f.run(["allocate", "--service", service, "--json"]);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.out.join("\n"))).toMatchObject({ code: "bad_request" });
    }
    expect(await f.allocations()).toEqual([cafe]);
    expect(await f.run(["env"])).toEqual({
      code: 0,
      out: [`CAFE_API_PORT=${cafe.port}`],
      err: [],
    });
  });
});
