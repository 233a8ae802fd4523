// The plugin as Claude Code judges it: `claude plugin validate DIR --profile directory` (the
// plugin directory's own rules as well) passes the folder `portctl skill install --plugin`
// writes, and lists what it provides: the three hooks, the MCP server and the skill.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { builtBinaries, runBinary } from "../helpers/binaries.ts";
import { hostBin, hostHome, runHost } from "../helpers/hosts.ts";

const claude = hostBin("claude");
const h = hostHome();
afterAll(() => h.cleanup());

test.skipIf(!claude)(
  "claude plugin validate accepts the bundle",
  async () => {
    const dir = join(h.root, "plugin");
    const portctl = join(await builtBinaries(), "portctl");
    const w = await runBinary(portctl, ["skill", "install", "--plugin", dir], {
      cwd: h.root,
      env: h.env,
    });
    expect(w.code).toBe(0);
    const r = await runHost(
      [claude as string, "plugin", "validate", dir, "--profile", "directory"],
      {
        cwd: h.root,
        env: h.env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✔ Validation passed");
    expect(r.stdout).toContain('SessionStart command "command -v portctl');
    expect(r.stdout).toContain('UserPromptSubmit command "command -v portctl');
    expect(r.stdout).not.toContain("WorktreeRemove");
    expect(r.stdout).toContain('port-server stdio portctl ["mcp"]');
    expect(r.stdout).toContain("skills: port-server:port-manager");
  },
  120_000,
);
