// Installs the agent hosts the tests drive (test/hosts/package.json and its lock) into a cache
// outside the repository: `bun scripts/agent-hosts.ts`. Nothing is done when the cache already
// holds these versions. The tests find the cache through test/helpers/hosts.ts.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hostsCache } from "../test/helpers/hosts-cache.ts";

if (process.platform !== "linux" || process.arch !== "x64") {
  console.log(
    `agent hosts: pinned for linux-x64, not installed on ${process.platform}-${process.arch}`,
  );
  process.exit(0);
}
const pinned = join(import.meta.dir, "../test/hosts");
const dir = hostsCache();
const FILES = ["package.json", "package-lock.json"];
const same = (file: string) =>
  existsSync(join(dir, file)) &&
  readFileSync(join(dir, file), "utf8") === readFileSync(join(pinned, file), "utf8");
if (FILES.every(same) && existsSync(join(dir, "node_modules/.bin/claude"))) {
  console.log(`agent hosts already in ${dir}`);
  process.exit(0);
}
mkdirSync(dir, { recursive: true });
for (const file of FILES) copyFileSync(join(pinned, file), join(dir, file));
console.log(`installing the agent hosts into ${dir}`);
// Their install scripts are not needed: Claude Code's wrapper finds its native binary itself.
const npm = Bun.spawnSync(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], {
  cwd: dir,
  stdout: "inherit",
  stderr: "inherit",
});
process.exit(npm.exitCode ?? 1);
