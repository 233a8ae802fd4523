// `make install` as the README shows it (PREFIX without root): both names land in PREFIX/bin as
// one file, and they work from there.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";

const ROOT = join(import.meta.dir, "../..");
const prefix = mkdtempSync(join(tmpdir(), "port-server-prefix-"));
afterAll(() => rmSync(prefix, { recursive: true, force: true }));

test("make install PREFIX=<dir> installs portctl and port-server as one file", async () => {
  const built = await builtBinaries();
  // -o build: the binaries are already built (into BUILT); install only copies them.
  const make = Bun.spawnSync(
    ["make", "-s", "-o", "build", "install", `PREFIX=${prefix}`, `BUILT=${built}`],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    },
  );
  expect(make.stderr.toString()).toBe("");
  expect(make.exitCode).toBe(0);
  expect(make.stdout.toString().trim()).toBe(
    `installed portctl and port-server into ${prefix}/bin`,
  );
  const cli = statSync(join(prefix, "bin/portctl"));
  expect(statSync(join(prefix, "bin/port-server")).ino).toBe(cli.ino);
  expect(cli.mode & 0o777).toBe(0o755);
  const version = Bun.spawnSync([join(prefix, "bin/port-server"), "--version"]);
  expect(version.stdout.toString()).toStartWith("port-server ");
}, 120_000);
