// `portctl mcp install`: each host's file written or merged (other servers kept), a broken file
// refused and left as it was while the other hosts are still written, and --print writing nothing.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { projectEntry, serverEntry } from "../../src/cli/mcp/install.ts";
import { captureIo, runWith } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";

let home: TempHome;
let cwd = "";
const ADDR = "127.0.0.1:45999";

beforeEach(() => {
  home = tempHome("portctl-mcp-install-");
  cwd = join(home.root, "shop");
  mkdirSync(cwd);
});
afterEach(() => home.cleanup());

function run(...argv: string[]) {
  return runWith(["mcp", "install", ...argv], {
    env: { ...home.env, PORT_SERVER_ADDR: ADDR },
    cwd,
    home: home.root,
  });
}

const io = () => captureIo({ env: { PORT_SERVER_ADDR: ADDR }, cwd, home: home.root });
// From source the entry runs bun, never the portctl on PATH: project files get a note.
const NOTE = `  note: it names ${process.execPath}: the portctl on PATH is not this one, so a teammate's machine may lack that path`;
/** A project file that carries the address from the environment says so. */
const ADDR_NOTE = `  note: it carries PORT_SERVER_ADDR=${ADDR} from your environment, so the agent reaches the daemon you do; a teammate's may listen elsewhere (drop the "env" entry before committing, if so)`;
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe("portctl mcp install", () => {
  test("the entry: this executable, `mcp`, and the registry address in use", () => {
    const entry = serverEntry(io());
    // From source: bun running src/main.ts (compiled: the binary alone; see test/e2e/mcp).
    expect(entry).toEqual({
      command: process.execPath,
      args: [join(import.meta.dir, "../../src/main.ts"), "mcp"],
      env: { PORT_SERVER_ADDR: ADDR },
    });
  });

  test("--claude --codex --cursor: each host's file, merged with what was there", async () => {
    const entry = serverEntry(io());
    writeFileSync(join(cwd, ".mcp.json"), `{"mcpServers": {"github": {"command": "gh"}}}`);
    mkdirSync(join(home.root, ".codex"));
    const codex = join(home.root, ".codex", "config.toml");
    writeFileSync(codex, `# mine\nmodel = "o3"\n\n[mcp_servers.github]\ncommand = "gh"\n`);

    const r = await run("--claude", "--codex", "--cursor");
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      `Claude Code: added port-server to ${join(cwd, ".mcp.json")}`,
      NOTE,
      ADDR_NOTE,
      `Codex: added port-server to ${codex}`,
      `Cursor: added port-server to ${join(cwd, ".cursor", "mcp.json")}`,
      NOTE,
      ADDR_NOTE,
    ]);
    expect(readJson(join(cwd, ".mcp.json"))).toEqual({
      mcpServers: { github: { command: "gh" }, "port-server": { type: "stdio", ...entry } },
    });
    expect(readJson(join(cwd, ".cursor", "mcp.json"))).toEqual({
      mcpServers: { "port-server": entry },
    });
    const text = readFileSync(codex, "utf8");
    expect(text).toStartWith(`# mine\nmodel = "o3"\n\n[mcp_servers.github]\ncommand = "gh"\n\n`);
    expect(parse(text) as unknown).toEqual({
      model: "o3",
      mcp_servers: { github: { command: "gh" }, "port-server": entry },
    });

    const again = await run("--claude", "--codex", "--cursor");
    expect(again.code).toBe(0);
    expect(again.out).toEqual([
      `Claude Code: port-server already up to date in ${join(cwd, ".mcp.json")}`,
      NOTE,
      ADDR_NOTE,
      `Codex: port-server already up to date in ${codex}`,
      `Cursor: port-server already up to date in ${join(cwd, ".cursor", "mcp.json")}`,
      NOTE,
      ADDR_NOTE,
    ]);
    expect(readFileSync(codex, "utf8")).toBe(text);
  });

  test("--gemini and --vscode: .gemini/settings.json (other settings kept) and .vscode/mcp.json", async () => {
    const entry = serverEntry(io());
    mkdirSync(join(cwd, ".gemini"));
    writeFileSync(join(cwd, ".gemini/settings.json"), `{\n    "theme": "GitHub"\n}\n`);
    const r = await run("--gemini", "--vscode");
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([
      `Gemini CLI: added port-server to ${join(cwd, ".gemini/settings.json")}`,
      NOTE,
      ADDR_NOTE,
      `VS Code: added port-server to ${join(cwd, ".vscode/mcp.json")}`,
      NOTE,
      ADDR_NOTE,
    ]);
    const gemini = readFileSync(join(cwd, ".gemini/settings.json"), "utf8");
    expect(gemini).toStartWith(`{\n    "theme": "GitHub",\n    "mcpServers": {`);
    expect(JSON.parse(gemini)).toEqual({ theme: "GitHub", mcpServers: { "port-server": entry } });
    expect(readJson(join(cwd, ".vscode/mcp.json"))).toEqual({
      servers: { "port-server": { type: "stdio", ...entry } },
    });
    const bad = `{"servers": []}`;
    writeFileSync(join(cwd, ".vscode/mcp.json"), bad);
    const again = await run("--vscode");
    expect(again.code).toBe(1);
    expect(again.err).toEqual([
      `VS Code: failed: cannot update ${join(cwd, ".vscode/mcp.json")}: "servers" is not an object`,
    ]);
    expect(readFileSync(join(cwd, ".vscode/mcp.json"), "utf8")).toBe(bad);
  });

  test("from a subfolder of a repository, the project files go to its top folder, said once", async () => {
    mkdirSync(join(cwd, ".git"));
    const sub = join(cwd, "apps", "web");
    mkdirSync(sub, { recursive: true });
    const r = await runWith(["mcp", "install", "--claude", "--gemini"], {
      env: { ...home.env, PORT_SERVER_ADDR: ADDR },
      cwd: sub,
      home: home.root,
    });
    expect(r.code).toBe(0);
    expect(r.err).toEqual([`installing in ${cwd} (the repository's top folder)`]);
    expect(r.out[0]).toBe(`Claude Code: added port-server to ${join(cwd, ".mcp.json")}`);
    expect(existsSync(join(cwd, ".mcp.json"))).toBe(true);
    expect(existsSync(join(cwd, ".gemini/settings.json"))).toBe(true);
    expect(readdirSync(sub)).toEqual([]);
  });

  test("a project file names portctl by command only when the portctl on PATH is this one", () => {
    const bin = join(home.root, "bin");
    mkdirSync(bin);
    const self = join(home.root, "portctl-self");
    writeFileSync(self, "the binary");
    const onPath = (contents: string | undefined) => {
      rmSync(join(bin, "portctl"), { force: true });
      if (contents !== undefined) writeFileSync(join(bin, "portctl"), contents, { mode: 0o755 });
      return projectEntry(captureIo({ env: { PATH: bin }, cwd, home: home.root }), self);
    };
    expect(onPath(undefined)).toBeUndefined();
    expect(onPath("another portctl")).toBeUndefined();
    expect(onPath("the binary")).toEqual({ command: "portctl", args: ["mcp"] });
    rmSync(join(bin, "portctl"));
    linkSync(self, join(bin, "portctl"));
    chmodSync(self, 0o755);
    expect(projectEntry(captureIo({ env: { PATH: bin }, cwd, home: home.root }), self)).toEqual({
      command: "portctl",
      args: ["mcp"],
    });
  });

  test("CODEX_HOME is where Codex reads its config; the folder is created", async () => {
    const codexHome = join(home.root, "elsewhere", "codex");
    const r = await runWith(["mcp", "install", "--codex"], {
      env: { ...home.env, CODEX_HOME: codexHome },
      cwd,
      home: home.root,
    });
    expect(r.code).toBe(0);
    const config = parse(readFileSync(join(codexHome, "config.toml"), "utf8")) as {
      mcp_servers: Record<string, { env?: unknown }>;
    };
    // The default address: nothing to pass on.
    expect(config.mcp_servers["port-server"]?.env).toBeUndefined();
  });

  test("a broken file is refused and left exactly as it was; the other hosts are written", async () => {
    const broken = `{"mcpServers": {"github": `;
    writeFileSync(join(cwd, ".mcp.json"), broken);
    const r = await run("--claude", "--cursor");
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toStartWith(
      `Claude Code: failed: cannot update ${join(cwd, ".mcp.json")}: it is not valid JSON (`,
    );
    expect(readFileSync(join(cwd, ".mcp.json"), "utf8")).toBe(broken);
    expect(r.out).toEqual([
      `Cursor: added port-server to ${join(cwd, ".cursor", "mcp.json")}`,
      NOTE,
      ADDR_NOTE,
    ]);
    // No temp file left beside it.
    expect(readdirSync(cwd).sort()).toEqual([".cursor", ".mcp.json"]);
  });

  test("a symlinked config stays a link; the file it names is updated", async () => {
    const real = join(home.root, "dotfiles-mcp.json");
    writeFileSync(real, "{}\n");
    symlinkSync(real, join(cwd, ".mcp.json"));
    expect((await run("--claude")).code).toBe(0);
    expect(lstatSync(join(cwd, ".mcp.json")).isSymbolicLink()).toBe(true);
    expect(Object.keys(readJson(real).mcpServers)).toEqual(["port-server"]);
  });

  test("--print shows every host's configuration and writes nothing", async () => {
    const r = await run("--print");
    expect(r.code).toBe(0);
    const text = r.out.join("\n");
    expect(text).toContain(
      `claude mcp add --scope user port-server --env PORT_SERVER_ADDR=${ADDR} -- ${process.execPath}`,
    );
    expect(text).toContain("[mcp_servers.port-server]");
    expect(text).toContain("# Cursor: .cursor/mcp.json");
    expect(readdirSync(cwd)).toEqual([]);
    expect(existsSync(join(home.root, ".codex"))).toBe(false);
    const codexOnly = await run("--print", "--codex");
    expect(codexOnly.out.join("\n")).not.toContain("Cursor");
  });

  test("no host named: one line saying how to choose, nothing written", async () => {
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      "error: choose a host: --claude, --codex, --cursor, --gemini or --vscode (or --print to see each configuration)",
    ]);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe("serverEntry's address", () => {
  test("the default address (or none) is not written: only one a teammate would have to share", () => {
    const entry = (addr?: string) =>
      serverEntry(
        captureIo({
          env: addr === undefined ? {} : { PORT_SERVER_ADDR: addr },
          cwd: "/",
          home: "/",
        }),
      );
    expect(entry().env).toBeUndefined();
    expect(entry("127.0.0.1:51234").env).toBeUndefined();
    expect(entry(" 127.0.0.1:51234 ").env).toBeUndefined();
    expect(entry("127.0.0.1:4999").env).toEqual({ PORT_SERVER_ADDR: "127.0.0.1:4999" });
  });
});
