// The daemon's log (issue #11, point 9): one line per event, no stack for a client's fault, and
// capped: past the limit it moves to `<log>.1` and starts again, only while the path still names
// the very file the daemon writes to.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_MAX_BYTES } from "../../src/core/config.ts";
import { createLog, describeError, oneLine } from "../../src/server/log.ts";
import { freePort, runIn } from "../helpers/cli.ts";
import { stopAllDaemons, type TempHome, tempHome } from "../helpers/daemon.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "port-server-log-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("one line per event", () => {
  test("line breaks of every kind become ' | '", () => {
    expect(oneLine("first\n   second\r\nthird\u2028fourth\n")).toBe(
      "first | second | third | fourth",
    );
  });

  test("an error is its name, message and the frame it was thrown at, on one line", () => {
    const err = new TypeError("boom\nwith detail");
    const line = describeError(err);
    expect(line).toStartWith("TypeError: boom | with detail (at ");
    expect(line).not.toContain("\n");
    expect(describeError("plain\ntext")).toBe("plain | text");
  });
});

describe("rotation", () => {
  /** A log the way portctl start opens it: O_APPEND, shared by stdout and stderr. */
  function openLog(path: string): { fd: number; log: (m: string) => void } {
    const fd = openSync(path, "a", 0o600);
    const log = createLog({ path, fd, maxBytes: 100, write: (l) => void writeSync(fd, `${l}\n`) });
    return { fd, log };
  }

  test("past the limit the file moves to .1 (0600) and starts again empty", () => {
    const path = join(dir, "port-server.log");
    const { fd, log } = openLog(path);
    // 19 bytes each: the sixth crosses 100 and moves the file; the next two start it again.
    for (let i = 0; i < 8; i++) log(`event ${i} ${"x".repeat(10)}`);
    closeSync(fd);
    const old = readFileSync(`${path}.1`, "utf8");
    expect(old.length).toBeGreaterThan(100);
    expect(old).toStartWith("event 0 ");
    expect(statSync(`${path}.1`).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8").length).toBeLessThanOrEqual(100);
    // Every event is in one of the two files, in order, none twice.
    const all = `${old}${readFileSync(path, "utf8")}`.trim().split("\n");
    expect(all.map((l) => Number(l.split(" ")[1]))).toEqual([...Array(8).keys()]);
  });

  test("a path that no longer names the file written to is never rotated (nor truncated)", () => {
    const path = join(dir, "port-server.log");
    const { fd, log } = openLog(path);
    renameSync(path, join(dir, "moved.log"));
    writeFileSync(path, "someone else's file\n");
    for (let i = 0; i < 12; i++) log(`event ${i} ${"x".repeat(10)}`);
    closeSync(fd);
    expect(readFileSync(path, "utf8")).toBe("someone else's file\n");
    expect(existsSync(`${path}.1`)).toBe(false);
  });
});

describe("the daemon's log", () => {
  let home: TempHome;
  beforeEach(() => {
    home = tempHome("port-server-log-daemon-");
  });
  afterEach(async () => {
    await stopAllDaemons();
    home.cleanup();
  });

  test("a log left over the limit is rotated when portctl start starts the daemon", async () => {
    const port = freePort();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(home.state, { mode: 0o700 });
    const log = join(home.state, "port-server.log");
    writeFileSync(log, `${"old line\n".repeat(Math.ceil(LOG_MAX_BYTES / 9) + 1)}`, { mode: 0o600 });
    const started = await runIn(home, port, ["start"]);
    expect(started.code).toBe(0);
    try {
      expect(statSync(`${log}.1`).size).toBeGreaterThan(LOG_MAX_BYTES);
      expect(statSync(log).size).toBeLessThan(4096);
    } finally {
      expect((await runIn(home, port, ["stop"])).code).toBe(0);
    }
    expect(readFileSync(log, "utf8")).toContain("stopped");
  });
});
