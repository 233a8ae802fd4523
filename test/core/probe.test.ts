// Is a port bound, and by whom: the /proc reader against a real socket this test opens (Linux)
// and against a synthetic /proc tree (anywhere); the bind probe; then config.ts's parsers.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_PORT,
  parseAddress,
  parseExclusions,
  parseRange,
  stateDir,
  statePaths,
} from "../../src/core/config.ts";
import { bindProbe, isBound, procProbe, SNAPSHOT_TTL_MS } from "../../src/core/probe.ts";

/** A socket listening on 127.0.0.1 on a port the kernel picks. */
function listen() {
  return Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
}

describe.if(process.platform === "linux")("procProbe on this machine", () => {
  const probe = procProbe("/proc");

  test("reports a socket this process listens on, owned by this process", () => {
    const listener = listen();
    try {
      expect(probe.listening()(listener.port)).toBe(true);
      const who = probe.who(listener.port);
      expect(who).toMatchObject({ in_use: true, pid: process.pid });
      expect(typeof who.process).toBe("string");
    } finally {
      listener.stop(true);
    }
  });

  test("a closed port is not in use", () => {
    const listener = listen();
    const port = listener.port;
    listener.stop(true);
    expect(probe.listening()(port)).toBe(false);
    expect(probe.who(port)).toEqual({ in_use: false });
  });
});

describe("procProbe on a synthetic /proc", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "port-server-proc-"));
    mkdirSync(join(root, "net"));
    const header =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    const entry = (local: string, state: string, inode: number) =>
      `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
    // 5432 listening; 8080 only an established connection; 9229 listening on IPv6.
    writeFileSync(
      join(root, "net/tcp"),
      header + entry("0100007F:1538", "0A", 111) + entry("0100007F:1F90", "01", 222),
    );
    writeFileSync(
      join(root, "net/tcp6"),
      header + entry("00000000000000000000000001000000:240D", "0A", 333),
    );
    mkdirSync(join(root, "4242/fd"), { recursive: true });
    writeFileSync(join(root, "4242/comm"), "postgres\n");
    symlinkSync("socket:[111]", join(root, "4242/fd/7"));
    symlinkSync("/dev/null", join(root, "4242/fd/0"));
    mkdirSync(join(root, "self")); // not a pid: skipped
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("only LISTEN rows count, IPv4 and IPv6", () => {
    const bound = procProbe(root).listening();
    expect([5432, 8080, 9229, 1].map(bound)).toEqual([true, false, true, false]);
  });

  test("who() finds the owner by socket inode, or only in_use when none is visible", () => {
    const probe = procProbe(root);
    expect(probe.who(5432)).toEqual({ in_use: true, pid: 4242, process: "postgres" });
    expect(probe.who(9229)).toEqual({ in_use: true });
    expect(probe.who(8080)).toEqual({ in_use: false });
  });

  test("a missing tcp6 table is not an error", () => {
    rmSync(join(root, "net/tcp6"));
    expect(procProbe(root).listening()(5432)).toBe(true);
  });
});

describe("bindProbe", () => {
  test("a port bound on 127.0.0.1 is in use; once closed it is free", () => {
    const probe = bindProbe();
    const listener = listen();
    const port = listener.port;
    try {
      expect(probe.listening()(port)).toBe(true);
      expect(probe.who(port).in_use).toBe(true);
    } finally {
      listener.stop(true);
    }
    expect(probe.listening()(port)).toBe(false);
    expect(probe.who(port)).toEqual({ in_use: false });
  });
});

describe("config: parseRange", () => {
  test.each([
    ["3000-32767", { lo: 3000, hi: 32767 }],
    [" 10 - 20 ", { lo: 10, hi: 20 }],
    ["8000-8000", { lo: 8000, hi: 8000 }],
    ["1-65535", { lo: 1, hi: 65535 }],
  ])("accepts %p", (text, range) => {
    expect(parseRange(text)).toEqual(range);
  });

  test("9000-8000 is refused because LO is above HI", () => {
    expect(() => parseRange("9000-8000")).toThrow(
      'invalid port range "9000-8000": 9000 is above 8000',
    );
  });

  test.each(["0-10", "1-65536", "abc", "", "3000", "3000-", "-1-10", "1.5-10", "10-20-30"])(
    "refuses %p",
    (text) => {
      expect(() => parseRange(text)).toThrow(`invalid port range "${text}": expected LO-HI`);
    },
  );
});

describe("config: parseExclusions", () => {
  test.each([
    [undefined, []],
    ["", []],
    ["  ", []],
    ["5432", [{ lo: 5432, hi: 5432 }]],
    [
      " 5432 , 6000-6100 ",
      [
        { lo: 5432, hi: 5432 },
        { lo: 6000, hi: 6100 },
      ],
    ],
  ])("parses %p", (text, ranges) => {
    expect(parseExclusions(text)).toEqual(ranges);
  });

  test.each([
    ["0", /invalid excluded port "0"/],
    ["70000", /invalid excluded port "70000"/],
    ["5432,abc", /invalid port range "abc"/],
    ["5432,", /invalid port range ""/],
    ["6100-6000", /6100 is above 6000/],
  ])("refuses %p", (text, message) => {
    expect(() => parseExclusions(text)).toThrow(message);
  });
});

describe("config: parseAddress", () => {
  test.each([
    [undefined, { host: "127.0.0.1", port: DEFAULT_PORT }],
    ["  ", { host: "127.0.0.1", port: DEFAULT_PORT }],
    ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
    ["localhost:8080", { host: "127.0.0.1", port: 8080 }],
    ["[::1]:8080", { host: "127.0.0.1", port: 8080 }],
    [":8080", { host: "127.0.0.1", port: 8080 }],
    ["8080", { host: "127.0.0.1", port: 8080 }],
  ])("parses %p", (text, addr) => {
    expect(parseAddress(text)).toEqual(addr);
  });

  test.each(["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:abc", "http://x:1"])(
    "refuses the malformed %p",
    (text) => {
      expect(() => parseAddress(text)).toThrow("PORT_SERVER_ADDR must look like 127.0.0.1:51234");
    },
  );

  test.each(["0.0.0.0:8080", "example.com:8080", "192.168.1.2:8080", "[::]:8080"])(
    "refuses the non-loopback %p",
    (text) => {
      expect(() => parseAddress(text)).toThrow("PORT_SERVER_ADDR must name a loopback host");
    },
  );
});

describe("config: state paths", () => {
  test("PORT_SERVER_HOME wins; else $HOME/.port_server; blank counts as unset", () => {
    expect(stateDir({ PORT_SERVER_HOME: "/s", HOME: "/h" }, "/os")).toBe("/s");
    expect(stateDir({ PORT_SERVER_HOME: " ", HOME: "/h" }, "/os")).toBe("/h/.port_server");
    expect(stateDir({}, "/os")).toBe("/os/.port_server");
    // Relative: made absolute here, or the daemon (started in the state folder) would nest it.
    expect(stateDir({ PORT_SERVER_HOME: "rel/state" }, "/os")).toBe(
      join(process.cwd(), "rel/state"),
    );
    expect(statePaths({ PORT_SERVER_HOME: "/s" })).toEqual({
      dir: "/s",
      db: "/s/ports.db",
      pid: "/s/port-server.pid",
      log: "/s/port-server.log",
    });
  });
});

describe("snapshot cache and the fresh check", () => {
  test.if(process.platform === "linux")(
    "listening(): reused while young, refreshed in the background from half the TTL, never used once old; isBound() always looks now",
    async () => {
      let clock = 1_000;
      const probe = procProbe("/proc", () => clock);
      const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      const port = listener.port;
      try {
        expect(probe.listening()(port)).toBe(true);
        listener.stop(true);
        // Young: the old snapshot answers, but the fresh check does not trust it.
        clock += SNAPSHOT_TTL_MS / 2 - 1;
        expect(probe.listening()(port)).toBe(true);
        expect(probe.isBound(port)).toBe(false);
        // From half the TTL the old one still answers while a new one is read in the background.
        clock += 1;
        expect(probe.listening()(port)).toBe(true);
        const deadline = Date.now() + 5_000;
        while (probe.listening()(port) && Date.now() < deadline) await Bun.sleep(5);
        expect(probe.listening()(port)).toBe(false);
        // After an idle spell past the TTL the answer is read on the spot.
        const again = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
        try {
          clock += SNAPSHOT_TTL_MS;
          expect(probe.listening()(port)).toBe(true);
        } finally {
          again.stop(true);
        }
      } finally {
        listener.stop(true);
      }
    },
  );

  test("isBound sees a listener on 127.0.0.1 and on 0.0.0.0", () => {
    for (const hostname of ["127.0.0.1", "0.0.0.0"]) {
      const listener = Bun.listen({ hostname, port: 0, socket: { data() {} } });
      try {
        expect(isBound(listener.port)).toBe(true);
      } finally {
        listener.stop(true);
      }
    }
  });
});
