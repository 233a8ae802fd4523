// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub expressions, not templates
// CI as contributors see it: every push is tested on Linux and on macOS (arm64), through the
// same entry point a developer's `make test` uses, and the docker tests are skipped only where
// no engine can run (GitHub's macOS runners), saying so.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const ROOT = join(import.meta.dir, "../..");

interface Step {
  run?: string;
  if?: string;
  env?: Record<string, string>;
}

test("ci.yml: ubuntu-latest and macos-latest, each running .ci/run to the end", () => {
  const ci = parse(readFileSync(join(ROOT, ".github/workflows/ci.yml"), "utf8"));
  const job = ci.jobs.test;
  expect(job.strategy.matrix.os).toEqual(["ubuntu-latest", "macos-latest"]);
  expect(job.strategy["fail-fast"]).toBe(false);
  expect(job["runs-on"]).toBe("${{ matrix.os }}");
  const steps = job.steps as Step[];
  const last = steps.at(-1);
  expect(last?.run).toBe(".ci/run");
  // Docker is switched off on macOS only.
  expect(last?.env?.PORT_SERVER_TEST_NO_DOCKER).toMatch(
    /^\$\{\{ runner\.os == 'macOS' && '.+' \|\| '' \}\}$/,
  );
  // lsof is installed on Linux, so its reader (macOS's) is tested there as well.
  expect(steps.find((s) => s.if === "runner.os == 'Linux'")?.run).toContain("lsof");
});
