// `portctl env --write` where someone may have planted something (issue #11, points 5 and 11):
// the old predictable temp name is no longer used (a link planted there once made it overwrite
// and chmod another file), the mode is kept exactly, and a target that is not UTF-8 text is
// refused byte for byte untouched instead of being rewritten with U+FFFD.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Allocation } from "../../src/core/model.ts";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";

let f: CliFixture;
let pg: Allocation;
beforeEach(async () => {
  f = await cliFixture("myapp");
  pg = await f.alloc("--instance", "dev", "--service", "postgres");
});
afterEach(async () => {
  await f.close();
  await stopAllDaemons();
});

const mode = (path: string) => statSync(path).mode & 0o777;
const write = (file = ".env") => f.run(["env", "--instance", "dev", "--write", file]);

describe("env --write and planted files", () => {
  test("a symlink at the old temp name (.env.portctl-<pid>.tmp) is never followed", async () => {
    const env = join(f.cwd, ".env");
    writeFileSync(env, "A=1\n", { mode: 0o600 });
    const victim = join(f.home.root, "victim");
    writeFileSync(victim, "precious\n", { mode: 0o600 });
    // This process runs the command in-process: its pid is the one the old code used.
    symlinkSync(victim, `${env}.portctl-${process.pid}.tmp`);
    expect((await write()).code).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(mode(victim)).toBe(0o600);
    expect(readFileSync(env, "utf8")).toBe(`A=1\nPOSTGRES_PORT=${pg.port}\n`);
  });

  test("the mode is kept exactly, whatever the umask; no temp file is left", async () => {
    const env = join(f.cwd, ".env");
    writeFileSync(env, "A=1\n");
    chmodSync(env, 0o640);
    expect((await write()).code).toBe(0);
    expect(mode(env)).toBe(0o640);
    expect(readdirSync(f.cwd).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  test("a BOM at the start of the file is kept", async () => {
    const env = join(f.cwd, ".env");
    writeFileSync(env, "\ufeffA=1\n");
    expect((await write()).code).toBe(0);
    expect(readFileSync(env, "utf8")).toBe(`\ufeffA=1\nPOSTGRES_PORT=${pg.port}\n`);
  });
});

describe("env --write refuses what is not UTF-8 text", () => {
  test.each([
    [
      "a PNG reached through a symlinked .env",
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]),
      "it is not UTF-8 text",
    ],
    ["Latin-1 text", Buffer.from("CAF\xc9=1\n", "latin1"), "it is not UTF-8 text"],
    ["valid UTF-8 with NUL bytes", Buffer.from("A=1\0\0\0\n"), "it is not a text file"],
  ])("%s: one line, exit 1, not a byte changed", async (_, bytes, why) => {
    const real = join(f.home.root, "blob.bin");
    writeFileSync(real, bytes, { mode: 0o600 });
    symlinkSync(real, join(f.cwd, ".env"));
    const r = await write();
    expect(r).toEqual({ code: 1, out: [], err: [`error: cannot write ${real}: ${why}`] });
    expect(readFileSync(real).equals(bytes)).toBe(true);
    expect(mode(real)).toBe(0o600);
  });
});
