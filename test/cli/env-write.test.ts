// `portctl env --write` where someone may have planted something (issue #11, points 5 and 11):
// the old predictable temp name is no longer used (a link planted there once made it overwrite
// and chmod another file), the mode is kept exactly, and a target that is not UTF-8 text is
// refused byte for byte untouched instead of being rewritten with U+FFFD.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
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
    mkdirSync(join(f.cwd, "assets"));
    const real = join(f.cwd, "assets", "blob.bin");
    writeFileSync(real, bytes, { mode: 0o600 });
    symlinkSync(real, join(f.cwd, ".env"));
    const r = await write();
    expect(r).toEqual({ code: 1, out: [], err: [`error: cannot write ${real}: ${why}`] });
    expect(readFileSync(real).equals(bytes)).toBe(true);
    expect(mode(real)).toBe(0o600);
  });
});

// A cloned repository's `.env` (or a folder on the way to it) may be a link out of the tree:
// `.env -> ../../.bashrc`. A path inside this checkout must not lead out of it.
describe("env --write and links out of the checkout", () => {
  test("a .env linked to a file in the home folder: one line, exit 1, the file untouched", async () => {
    const victim = join(f.home.root, ".bashrc");
    writeFileSync(victim, "# mine\n");
    symlinkSync("../.bashrc", join(f.cwd, ".env"));
    const r = await write();
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `error: refusing to write .env: it leads to ${victim}, outside this checkout (${f.cwd}); pass that path to --write if you mean it`,
      ],
    });
    expect(readFileSync(victim, "utf8")).toBe("# mine\n");
  });

  test("a folder linked out of the tree is refused for a new file too", async () => {
    const outside = join(f.home.root, "elsewhere");
    mkdirSync(outside);
    symlinkSync(outside, join(f.cwd, "config"));
    const r = await write("config/.env");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `error: refusing to write config/.env: it leads to ${join(outside, ".env")}, outside this checkout (${f.cwd}); pass that path to --write if you mean it`,
    ]);
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a link inside the checkout, and an explicit path outside it, are written", async () => {
    mkdirSync(join(f.cwd, "shared"));
    writeFileSync(join(f.cwd, "shared", "dev.env"), "A=1\n");
    symlinkSync("shared/dev.env", join(f.cwd, ".env"));
    expect((await write()).code).toBe(0);
    expect(readFileSync(join(f.cwd, "shared", "dev.env"), "utf8")).toBe(
      `A=1\nPOSTGRES_PORT=${pg.port}\n`,
    );
    const explicit = join(f.home.root, "explicit.env");
    expect((await write(explicit)).code).toBe(0);
    expect(readFileSync(explicit, "utf8")).toBe(`POSTGRES_PORT=${pg.port}\n`);
  });
});
