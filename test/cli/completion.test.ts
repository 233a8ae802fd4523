// `portctl completion`: the scripts parse in their shells, and bash and fish really complete
// (commands, subcommands, flags, flag values, --service names from portctl itself, files).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { completionServices } from "../../src/cli/commands/completion.ts";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { completionModel } from "../../src/cli/completion/model.ts";
import { completionScript, SHELLS, type Shell } from "../../src/cli/completion/scripts.ts";
import { captureIo, freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { startDaemon, stopAllDaemons, tempHome } from "../helpers/daemon.ts";

let dir = "";
const scripts = {} as Record<Shell, string>;
let fake = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "port-server-completion-"));
  for (const shell of SHELLS) {
    scripts[shell] = join(dir, `portctl.${shell}`);
    writeFileSync(scripts[shell], completionScript(shell, completionModel(COMMANDS)));
  }
  // Stands in for portctl where the scripts call it back for --service values.
  mkdirSync(join(dir, "bin"));
  fake = join(dir, "bin", "portctl");
  writeFileSync(fake, '#!/bin/sh\n[ "$1 $2" = "completion services" ] && printf "web\\ndb\\n"\n');
  chmodSync(fake, 0o755);
  mkdirSync(join(dir, "files"));
  writeFileSync(join(dir, "files", "compose.yaml"), "");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => stopAllDaemons());

describe("syntax", () => {
  test.each([
    ["bash", ["bash", "-n"]],
    ["zsh", ["zsh", "-n"]],
    ["fish", ["fish", "--no-execute"]],
  ] as const)("%s parses the script", (shell, cmd) => {
    if (!Bun.which(cmd[0])) {
      console.log(`${cmd[0]} is not installed: skipped its syntax check`);
      return;
    }
    const res = Bun.spawnSync([...cmd, scripts[shell]], { stderr: "pipe" });
    expect(res.stderr.toString()).toBe("");
    expect(res.exitCode).toBe(0);
  });

  test("every command of the table is in every script", () => {
    for (const shell of SHELLS) {
      const text = completionScript(shell, completionModel(COMMANDS));
      for (const c of COMMANDS) expect(text).toContain(c.name);
    }
  });
});

describe("bash completes", () => {
  test.each([
    ["allo", ["allocate"]],
    ["skill ", ["install"]],
    ["allocate --se", ["--service"]],
    ["allocate --service ", ["web", "db"]],
    ["allocate --service web --qu", ["--quiet"]],
    ["env --format ", ["dotenv", "export", "json"]],
    ["allocate --port ", []],
  ])("portctl %s", (typed, expected) => {
    expect(bashComplete(typed)).toEqual(expected);
  });

  test("a positional argument completes file names", () => {
    expect(bashComplete(`scan ${join(dir, "files", "comp")}`)).toEqual([
      join(dir, "files", "compose.yaml"),
    ]);
  });
});

describe("fish completes", () => {
  test("commands with their summaries, flag values from portctl itself", () => {
    if (!Bun.which("fish")) {
      console.log("fish is not installed: skipped");
      return;
    }
    expect(fishComplete("portctl allo")).toEqual(["allocate\tallocate a port for a service"]);
    expect(fishComplete("portctl allocate --service ").map((l) => l.split("\t")[0])).toEqual([
      "db",
      "web",
    ]);
    expect(fishComplete("portctl env --format ").map((l) => l.split("\t")[0])).toEqual([
      "dotenv",
      "export",
      "json",
    ]);
  });
});

describe("portctl completion services", () => {
  test("this app's service names from the daemon, sorted, one a line", async () => {
    const h = tempHome();
    try {
      const d = await startDaemon({ home: h });
      for (const [app, service] of [
        ["shop", "web"],
        ["shop", "db"],
        ["other", "cache"],
      ]) {
        await checkedFetch(`${d.url}/v1/allocations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ app, instance: "main", service }),
        });
      }
      const cwd = join(h.root, "shop");
      mkdirSync(cwd);
      const io = captureIo({ env: { PORT_SERVER_ADDR: `127.0.0.1:${d.port}` }, cwd, home: h.root });
      expect(await completionServices({}, io)).toBe(0);
      expect(io.stdout).toEqual(["db", "web"]);
    } finally {
      h.cleanup();
    }
  });

  test("no daemon: nothing and exit 0 (a shell must never stall or print errors)", async () => {
    const io = captureIo({
      env: { PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` },
      cwd: dir,
      home: dir,
    });
    expect(await completionServices({}, io)).toBe(0);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([]);
  });

  test("from / (no app name): nothing and exit 0, never an error at a TAB", async () => {
    const io = captureIo({
      env: { PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` },
      cwd: "/",
      home: dir,
    });
    expect(await completionServices({}, io)).toBe(0);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([]);
  });
});

// --- internal ---

function bashComplete(typed: string): string[] {
  const words = typed.split(" ");
  const script = [
    `source '${scripts.bash}'`,
    `COMP_WORDS=('${fake}' ${words.map((w) => `'${w}'`).join(" ")})`,
    `COMP_CWORD=${words.length}`,
    "_portctl",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash code
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const res = Bun.spawnSync(["bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
  expect(res.stderr.toString()).toBe("");
  return res.stdout.toString().split("\n").filter(Boolean);
}

function fishComplete(line: string): string[] {
  const res = Bun.spawnSync(["fish", "-c", `source '${scripts.fish}'; complete -C '${line}'`], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}` },
  });
  expect(res.stderr.toString()).toBe("");
  return res.stdout.toString().split("\n").filter(Boolean);
}
