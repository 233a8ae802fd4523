// The two config writers of `portctl mcp install`: one server merged into a host's JSON file,
// and one table set in Codex's TOML, with everything else in the file kept as it was.
import { describe, expect, test } from "bun:test";
import { parse } from "smol-toml";
import { mergeJsonServer } from "../../src/cli/mcp/config-json.ts";
import { mergeTomlServer, tomlTable } from "../../src/cli/mcp/config-toml.ts";
import { PortError } from "../../src/core/errors.ts";

const ENTRY = { command: "/usr/local/bin/portctl", args: ["mcp"] };
const F = "/p/config";

function json(text: string, entry: Record<string, unknown> = ENTRY) {
  return mergeJsonServer(text, F, "port-server", entry);
}

function toml(text: string, entry: typeof ENTRY & { env?: Record<string, string> } = ENTRY) {
  return mergeTomlServer(text, F, "port-server", entry);
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PortError);
    return (err as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("mergeJsonServer", () => {
  test("a missing or empty file gets just our server", () => {
    for (const before of ["", "  \n"]) {
      const r = json(before);
      expect(r.outcome).toBe("added");
      expect(JSON.parse(r.text)).toEqual({ mcpServers: { "port-server": ENTRY } });
      expect(r.text.endsWith("}\n")).toBe(true);
    }
  });

  test("other servers and other keys stay, in their order; the file's indentation is kept", () => {
    const before = `{\n    "other": 1,\n    "mcpServers": {\n        "github": { "command": "gh-mcp" }\n    }\n}\n`;
    const r = json(before);
    expect(r.outcome).toBe("added");
    expect(r.text).toBe(
      `{\n    "other": 1,\n    "mcpServers": {\n        "github": {\n            "command": "gh-mcp"\n        },\n        "port-server": {\n            "command": "/usr/local/bin/portctl",\n            "args": [\n                "mcp"\n            ]\n        }\n    }\n}\n`,
    );
  });

  test("an old entry of ours is replaced in place; the same entry is left alone", () => {
    const before = JSON.stringify({
      mcpServers: { a: {}, "port-server": { command: "old" }, z: {} },
    });
    const r = json(before);
    expect(r.outcome).toBe("updated");
    expect(Object.keys(JSON.parse(r.text).mcpServers)).toEqual(["a", "port-server", "z"]);
    expect(json(r.text)).toEqual({ text: r.text, outcome: "unchanged" });
  });

  test("tabs and CRLF survive", () => {
    const r = json(`{\r\n\t"mcpServers": {}\r\n}\r\n`);
    expect(r.text).toContain(`\r\n\t"mcpServers": {\r\n\t\t"port-server"`);
    expect(r.text.replaceAll("\r\n", "")).not.toContain("\n");
  });

  test("not JSON, not an object, or mcpServers not an object: refused", () => {
    expect(refusal(() => json("{ mcpServers: "))).toStartWith(
      "cannot update /p/config: it is not valid JSON (",
    );
    expect(refusal(() => json("[1]"))).toBe("cannot update /p/config: it is not a JSON object");
    expect(refusal(() => json(`{"mcpServers": []}`))).toBe(
      `cannot update /p/config: "mcpServers" is not an object`,
    );
  });
});

describe("mergeTomlServer", () => {
  test("the table alone, or appended after a blank line; nothing else changes", () => {
    expect(toml("").text).toBe(
      `[mcp_servers.port-server]\ncommand = "/usr/local/bin/portctl"\nargs = ["mcp"]\n`,
    );
    const before = `# my Codex settings\nmodel = "o3"  # fast\n\n[mcp_servers.github]\ncommand = "gh"\n\n\n`;
    const r = toml(before);
    expect(r.outcome).toBe("added");
    expect(r.text).toBe(
      `# my Codex settings\nmodel = "o3"  # fast\n\n[mcp_servers.github]\ncommand = "gh"\n\n[mcp_servers.port-server]\ncommand = "/usr/local/bin/portctl"\nargs = ["mcp"]\n`,
    );
  });

  test("our old table (any key spelling, with sub-tables) is replaced where it was", () => {
    const before = [
      `model = "o3"`,
      ``,
      `[mcp_servers."port-server"]  # ours`,
      `command = "old"`,
      `args = []`,
      ``,
      `[mcp_servers.port-server.env]`,
      `X = "1"`,
      ``,
      `# the next one is GitHub's`,
      `[mcp_servers.github]`,
      `command = "gh"`,
      ``,
    ].join("\n");
    const r = toml(before, { ...ENTRY, env: { PORT_SERVER_ADDR: "127.0.0.1:4000" } });
    expect(r.outcome).toBe("updated");
    expect(r.text).toBe(
      [
        `model = "o3"`,
        ``,
        `[mcp_servers.port-server]`,
        `command = "/usr/local/bin/portctl"`,
        `args = ["mcp"]`,
        `env = { PORT_SERVER_ADDR = "127.0.0.1:4000" }`,
        ``,
        `# the next one is GitHub's`,
        `[mcp_servers.github]`,
        `command = "gh"`,
        ``,
      ].join("\n"),
    );
    expect(toml(r.text, { ...ENTRY, env: { PORT_SERVER_ADDR: "127.0.0.1:4000" } }).outcome).toBe(
      "unchanged",
    );
  });

  test("strings that need escaping round-trip through a real TOML parser", () => {
    const entry = { command: `C:\\tools\\port "ctl"\u007f\u00e9`, args: ["mcp", "a'b"] };
    const parsed = parse(tomlTable("port-server", entry).join("\n")) as {
      mcp_servers: Record<string, unknown>;
    };
    expect(parsed.mcp_servers["port-server"]).toEqual(entry);
  });

  test("CRLF files stay CRLF", () => {
    const r = toml(`a = 1\r\n`);
    expect(r.text).toBe(
      `a = 1\r\n\r\n[mcp_servers.port-server]\r\ncommand = "/usr/local/bin/portctl"\r\nargs = ["mcp"]\r\n`,
    );
  });

  test("invalid TOML, or our server set in a form we do not rewrite: refused", () => {
    expect(refusal(() => toml(`a = \n`))).toStartWith(
      "cannot update /p/config: it is not valid TOML (",
    );
    expect(refusal(() => toml(`mcp_servers = { port-server = { command = "x" } }\n`))).toBe(
      "cannot update /p/config: it sets mcp_servers.port-server without a [mcp_servers.port-server] table; remove that and run again",
    );
    expect(refusal(() => toml(`[mcp_servers]\nport-server.command = "x"\n`))).toContain(
      "without a [mcp_servers.port-server] table",
    );
  });

  test("a header-like line inside a multi-line string is caught by the check, not written", () => {
    const before = `[mcp_servers.port-server]\nnote = """\n[other]\n"""\ncommand = "x"\n`;
    expect(refusal(() => toml(before))).toStartWith("cannot update /p/config safely");
  });
});
