// Every --help ends with one or two examples (gh's habit): every command of the table has them,
// each is a command line the real parser accepts for that very command, and `portctl --help`
// keeps the documentation's address as its last line.
import { describe, expect, test } from "bun:test";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { EXAMPLES } from "../../src/cli/examples.ts";
import { helpLines } from "../../src/cli/help.ts";
import { parseArgv } from "../../src/cli/parse.ts";
import type { CommandSpec } from "../../src/cli/spec.ts";
import { shellCommands } from "../helpers/markdown.ts";

/** Every command path of the table: `allocate`, `skill`, `skill install`, … */
function paths(table: CommandSpec[], above: CommandSpec[] = []): CommandSpec[][] {
  return table.flatMap((c) => [[...above, c], ...paths(c.subcommands ?? [], [...above, c])]);
}

const ALL = paths(COMMANDS).map((p): [string, CommandSpec[]] => [
  p.map((c) => c.name).join(" "),
  p,
]);

describe("examples", () => {
  test.each(ALL)(
    "portctl %s --help ends with one or two that parse as that command",
    (name, path) => {
      const examples = EXAMPLES[name] ?? [];
      expect(`${name}: ${examples.length}`).toMatch(new RegExp(`^${name}: [12]$`));
      for (const example of examples) {
        const argvs = shellCommands(example);
        expect(argvs.length).toBeGreaterThanOrEqual(1);
        const names = argvs.map((argv) => {
          const parsed = parseArgv(argv, COMMANDS);
          return parsed.kind === "version" ? "" : parsed.path.map((c) => c.name).join(" ");
        });
        // A group's examples use its subcommands.
        expect(names.some((n) => n === name || n.startsWith(`${name} `))).toBe(true);
      }
      const help = helpLines(path, COMMANDS);
      expect(help.slice(-examples.length - 3, -2)).toEqual([
        "Examples:",
        ...examples.map((e) => `  $ ${e}`),
      ]);
    },
  );

  test("no example names a command the table does not have", () => {
    const names = new Set(["", ...ALL.map(([n]) => n)]);
    expect(Object.keys(EXAMPLES).filter((k) => !names.has(k))).toEqual([]);
  });

  test("portctl --help: examples, then the documentation's address as the last line", () => {
    const help = helpLines([], COMMANDS);
    expect(help.at(-1)).toStartWith("Documentation: ");
    const examples = EXAMPLES[""] ?? [];
    expect(help.slice(-examples.length - 3)).toEqual([
      "Examples:",
      ...examples.map((e) => `  $ ${e}`),
      "",
      help.at(-1) ?? "",
    ]);
  });
});
