// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR:-default} is the subject
// scan --fix's rewrite as a pure function of the Compose model: only the port's node changes
// (comments, quoting, order and every other byte stay), and unsafe files are refused with why.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { envKey } from "../../src/cli/envfile.ts";
import { planFixes } from "../../src/core/scan/fix.ts";
import { loadComposeProject } from "../../src/core/scan/index.ts";

const DIR = join(import.meta.dir, "../fixtures/scan-fix");
const fix = (name: string, texts: Record<string, string> = {}) => {
  const read = (p: string) => texts[p] ?? readFileSync(p, "utf8");
  const project = loadComposeProject([join(DIR, name)], { env: {}, read });
  return planFixes([project], envKey, read);
};

describe("rewrites", () => {
  test("each literal host port becomes ${KEY:-port}; nothing else in the file changes", () => {
    const [f] = fix("docker-compose.yml");
    const before = readFileSync(join(DIR, "docker-compose.yml"), "utf8");
    const expected = before
      .replace('"5432:5432"   # the database', '"${POSTGRES_PORT:-5432}:5432"   # the database')
      .replace("['127.0.0.1:6379:6379']", "['127.0.0.1:${REDIS_PORT:-6379}:6379']")
      .replace("published: 8080 # long syntax", 'published: "${WEB_80_PORT:-8080}" # long syntax');
    expect(f?.refused).toBeUndefined();
    expect(f?.text).toBe(expected);
    expect(f?.edits.map((e) => [e.line, e.service, e.key, e.port])).toEqual([
      [9, "postgres", "POSTGRES_PORT", 5432],
      [13, "redis", "REDIS_PORT", 6379],
      [18, "web-80", "WEB_80_PORT", 8080],
    ]);
  });

  test("the rewritten file reads back with the same ports, now set by variables", () => {
    const [f] = fix("docker-compose.yml");
    const path = join(DIR, "docker-compose.yml");
    const again = loadComposeProject([path], { env: {}, read: () => f?.text ?? "" });
    const ports = again.services.flatMap((s) => s.ports.map((p) => [p.host, p.variable?.name]));
    expect(ports).toEqual([
      [5432, "POSTGRES_PORT"],
      [6379, "REDIS_PORT"],
      [8080, "WEB_80_PORT"],
      [8443, "WEB_TLS_PORT"],
    ]);
    // And it needs no second pass.
    expect(planFixes([again], envKey, () => f?.text ?? "")).toEqual([]);
  });
});

describe("refusals leave the file untouched, with the reason", () => {
  test("an anchor shared by two services", () => {
    expect(fix("shared.yml")).toEqual([
      {
        file: join(DIR, "shared.yml"),
        edits: [],
        refused: "line 3 is an anchor shared by a and b",
      },
    ]);
  });

  test("a literal port range becomes a block's two variables, named after its service", () => {
    const [f] = fix("range.yml");
    expect(f?.refused).toBeUndefined();
    expect(f?.edits.map((e) => [e.service, e.key, e.endKey, e.port, e.line])).toEqual([
      ["dns-5353", "DNS_5353_PORT", undefined, 5353, 5],
      ["dns", "DNS_PORT", "DNS_PORT_END", 8000, 6],
    ]);
    expect(f?.text).toContain('      - "${DNS_PORT:-8000}-${DNS_PORT_END:-8002}:8000-8002"\n');
  });

  test("a key another variable of the project already uses", () => {
    const [f] = fix("collide.yml");
    expect(f?.refused).toBe("WEB_PORT already sets another port of the project");
  });

  test("a value written with escapes is not rewritten by guesswork", () => {
    const path = join(DIR, "escaped.yml");
    const text = 'services:\n  db:\n    image: x\n    ports:\n      - "\\x35432:5432"\n';
    const [f] = fix("escaped.yml", { [path]: text });
    expect(f?.refused).toBe("line 5 is written in a form that cannot be rewritten safely");
  });
});
