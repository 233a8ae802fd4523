// Tables measure text in terminal columns and fit the terminal: CJK names keep the columns
// aligned, a long name is cut with … instead of widening every row, and --json stays exact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cut, table, tableWidth, width } from "../../src/cli/table.ts";
import { type CliFixture, cliFixture } from "../helpers/cli.ts";

const same = (t: string) => t;
const PLAIN = { bold: same, dim: same, green: same, yellow: same, red: same };

interface Row {
  name: string;
  port: number;
}

const COLUMNS = [
  { header: "NAME", value: (r: Row) => r.name },
  { header: "PORT", value: (r: Row) => String(r.port), fixed: true },
];

describe("table", () => {
  test("wide characters count two columns: the next column stays aligned", () => {
    const lines = table(
      [
        { name: "数据库", port: 3000 },
        { name: "web", port: 3001 },
      ],
      COLUMNS,
      PLAIN,
    );
    expect(lines).toEqual(["NAME    PORT", "数据库  3000", "web     3001"]);
    const ports = lines.map((l) => width(l.slice(0, l.lastIndexOf(" ") + 1)));
    expect(new Set(ports).size).toBe(1);
  });

  test("a row that does not fit: the text column is cut with …, the port never", () => {
    const long = { name: "s".repeat(128), port: 3000 };
    const lines = table([long, { name: "web", port: 3001 }], COLUMNS, PLAIN, 40);
    for (const line of lines) expect(width(line)).toBeLessThanOrEqual(40);
    expect(lines[1]).toBe(`${"s".repeat(33)}…  3000`);
    expect(lines[2]).toBe(`web${" ".repeat(31)}  3001`);
  });

  test("too wide: a droppable column (a time) leaves whole before a name is cut", () => {
    const columns = [
      ...COLUMNS,
      { header: "CREATED", value: () => "2025-02-08 15:04:05", fixed: true, droppable: true },
    ];
    const row = { name: "n".repeat(20), port: 3000 };
    expect(table([row], columns, PLAIN, 47)).toEqual([
      `NAME${" ".repeat(16)}  PORT  CREATED`,
      `${"n".repeat(20)}  3000  2025-02-08 15:04:05`,
    ]);
    expect(table([row], columns, PLAIN, 30)).toEqual([
      `NAME${" ".repeat(16)}  PORT`,
      `${"n".repeat(20)}  3000`,
    ]);
    // Gone and still too wide: then the name is cut.
    expect(table([row], columns, PLAIN, 20)).toEqual([
      `NAME${" ".repeat(10)}  PORT`,
      `${"n".repeat(13)}…  3000`,
    ]);
  });

  test("no limit: nothing is cut", () => {
    const long = { name: "s".repeat(128), port: 3000 };
    expect(table([long], COLUMNS, PLAIN)[1]).toBe(`${"s".repeat(128)}  3000`);
  });

  test("cut keeps whole characters and the width", () => {
    expect(cut("数据库服务", 5)).toBe("数据…");
    expect(width(cut("数据库服务", 5))).toBe(5);
    expect(cut("abc", 3)).toBe("abc");
    expect(cut("👩‍👩‍👧 family", 3)).toBe("👩‍👩‍👧…");
  });

  test("the width: the terminal's, else COLUMNS, else none", () => {
    expect(tableWidth({ columns: 80, env: { COLUMNS: "120" } })).toBe(80);
    expect(tableWidth({ env: { COLUMNS: "120" } })).toBe(120);
    expect(tableWidth({ env: { COLUMNS: "wide" } })).toBeUndefined();
    expect(tableWidth({ env: {} })).toBeUndefined();
  });
});

describe("portctl list", () => {
  let f: CliFixture;
  const long = "s".repeat(128);
  beforeAll(async () => {
    f = await cliFixture("myapp");
    await f.alloc("--service", long);
    await f.alloc("--service", "数据库-db");
  });
  afterAll(() => f.close());

  test("COLUMNS=80: every line fits, the long name ends in …", async () => {
    const run = await f.run(["list"], { env: { ...f.env, COLUMNS: "80" } });
    expect(run.code).toBe(0);
    for (const line of run.out) expect(width(line)).toBeLessThanOrEqual(80);
    expect(run.out.some((l) => l.includes("…"))).toBe(true);
  });

  test("--json is never cut", async () => {
    const run = await f.run(["list", "--json"], { env: { ...f.env, COLUMNS: "80" } });
    const rows = JSON.parse(run.out.join("\n")) as { service: string }[];
    expect(rows.map((r) => r.service)).toEqual([long, "数据库-db"]);
  });
});

describe("portctl list on a narrow terminal", () => {
  test("COLUMNS=80: CREATED gives way and a 40-character service name is shown whole", async () => {
    const f = await cliFixture("myapp");
    try {
      const service = "payments-reconciliation-worker-eu-west-1";
      expect(service).toHaveLength(40);
      await f.alloc("--service", service);
      const wide = await f.run(["list"], { env: { ...f.env, COLUMNS: "200" } });
      expect(wide.out[0]).toContain("CREATED");
      const run = await f.run(["list"], { env: { ...f.env, COLUMNS: "80" } });
      expect(run.code).toBe(0);
      expect(run.out[0]?.split(/\s+/)).toEqual([
        "ID",
        "APP",
        "INSTANCE",
        "SERVICE",
        "PORT",
        "LISTENING",
      ]);
      expect(run.out[1]).toContain(service);
      for (const line of run.out) expect(width(line)).toBeLessThanOrEqual(80);
    } finally {
      await f.close();
    }
  });
});
