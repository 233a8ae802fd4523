// `portctl mcp` must not slow every other command down: the MCP SDK (and its JSON Schema
// validator) must sit in chunks that only `portctl mcp` imports, never in what every `portctl`
// start loads (the entry chunk and the chunks it imports statically).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const outdir = mkdtempSync(join(tmpdir(), "portctl-chunks-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

interface Output {
  inputs: Record<string, unknown>;
  imports: { path: string; kind: string }[];
  entryPoint?: string;
}

test("no command but mcp loads the MCP SDK or ajv", async () => {
  // The same splitting as scripts/build.ts, without --compile (the chunks are the same).
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/main.ts")],
    target: "bun",
    format: "esm",
    splitting: true,
    outdir,
    metafile: true,
  });
  const outputs = (result.metafile?.outputs ?? {}) as Record<string, Output>;
  const sdk = /@modelcontextprotocol|node_modules\/ajv\/|src\/cli\/mcp\/server\.ts/;
  // Every chunk with code of ours outside src/cli/mcp/ (the entry, the CLI, each command), and
  // what each of those imports statically: loading it must not load the SDK.
  const ours = Object.keys(outputs).filter((k) =>
    Object.keys(outputs[k]?.inputs ?? {}).some((p) => /src\/(?!cli\/mcp\/)/.test(p)),
  );
  expect(ours.length).toBeGreaterThan(5);
  for (const chunk of ours) {
    const loaded = [...staticClosure(chunk, outputs)].flatMap((k) =>
      Object.keys(outputs[k]?.inputs ?? {}),
    );
    expect({ chunk, sdk: loaded.filter((p) => sdk.test(p)) }).toEqual({ chunk, sdk: [] });
  }
  // And the SDK is in the build: `portctl mcp` loads it.
  const all = Object.values(outputs).flatMap((o) => Object.keys(o.inputs));
  expect(all.some((p) => p.includes("@modelcontextprotocol/server"))).toBe(true);
}, 60_000);

// --- internal ---

/** The chunk and every chunk reachable from it through static imports (not `import()`). */
function staticClosure(start: string, outputs: Record<string, Output>): Set<string> {
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const imp of outputs[key]?.imports ?? []) {
      if (imp.kind === "import-statement")
        visit(join(key, "..", imp.path).replace(/^(?!\.)/, "./"));
    }
  };
  visit(start);
  return seen;
}
