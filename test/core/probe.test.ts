// Is a port in use (listening), and by whom: the kernel's listener table (sock_diag) and the
// /proc reader against real sockets this test opens (Linux), the /proc reader against a synthetic
// tree (anywhere), the bind probe, batching; then config.ts's parsers.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
import {
  batchedListening,
  bindProbe,
  kernelProbe,
  type Probe,
  procProbe,
} from "../../src/core/probe.ts";
import { openSockDiag } from "../../src/core/sockdiag.ts";
import { fakeProbe } from "../helpers/fakes.ts";
import { timeWait } from "../helpers/timewait.ts";

const LINUX = process.platform === "linux";

/** A socket listening on `hostname` on a port the kernel picks. */
function listen(hostname = "127.0.0.1") {
  return Bun.listen({ hostname, port: 0, socket: { data() {} } });
}

function ipv6(): boolean {
  try {
    listen("::1").stop(true);
    return true;
  } catch {
    return false;
  }
}

describe.if(LINUX)("on this machine: the kernel's table and /proc agree on what listens", () => {
  const reader = LINUX ? openSockDiag() : undefined;
  const probes: [string, () => Probe][] = [
    ["sock_diag", () => kernelProbe(reader ?? fail(), "/proc")],
    ["/proc", () => procProbe("/proc")],
  ];

  test("sock_diag is available here, so the daemon uses it", () => {
    expect(reader).toBeDefined();
  });

  describe.each(probes)("%s", (_name, make) => {
    const hosts = ["127.0.0.1", "0.0.0.0", ...(ipv6() ? ["::1", "::"] : [])];
    test.each(hosts)("a socket listening on %s is in use, by this process", (hostname) => {
      const probe = make();
      const l = listen(hostname);
      try {
        // Asked right after listen(): nothing cached, the answer is already there.
        expect(probe.listening()(l.port)).toBe(true);
        const who = probe.who(l.port);
        expect(who).toMatchObject({ in_use: true, pid: process.pid });
        expect(who.process).toBe(readFileSync("/proc/self/comm", "utf8").trim());
        // Asked again (the owner remembered by inode): the same answer.
        expect(probe.who(l.port)).toEqual(who);
      } finally {
        l.stop(true);
      }
      expect(probe.listening()(l.port)).toBe(false);
      expect(probe.who(l.port)).toEqual({ in_use: false });
    });

    test("a port whose only socket is in TIME_WAIT is not in use (though a bind would fail)", async () => {
      const port = await timeWait();
      const probe = make();
      expect(probe.listening()(port)).toBe(false);
      expect(probe.who(port)).toEqual({ in_use: false });
    });
  });

  test("both list the same listening ports (others may come and go meanwhile)", () => {
    const ports = (p: Probe) => {
      const listening = p.listening();
      return new Set(Array.from({ length: 65536 }, (_, i) => i).filter(listening));
    };
    const l = listen();
    try {
      const before = ports(procProbe("/proc"));
      const kernel = ports(kernelProbe(reader ?? fail(), "/proc"));
      const after = ports(procProbe("/proc"));
      expect(kernel.has(l.port)).toBe(true);
      for (const p of before) if (after.has(p)) expect(kernel.has(p)).toBe(true);
      for (const p of kernel) expect(before.has(p) || after.has(p)).toBe(true);
    } finally {
      l.stop(true);
    }
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
    // 5432 listening; 8080 only an established connection; 9229 listening on IPv6; 7000 TIME_WAIT.
    writeFileSync(
      join(root, "net/tcp"),
      header +
        entry("0100007F:1538", "0A", 111) +
        entry("0100007F:1F90", "01", 222) +
        entry("0100007F:1B58", "06", 0),
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
    const listening = procProbe(root).listening();
    expect([5432, 8080, 9229, 7000, 1].map(listening)).toEqual([true, false, true, false, false]);
  });

  test("who() finds the owner by socket inode, or only in_use when none is visible", () => {
    const probe = procProbe(root);
    expect(probe.who(5432)).toEqual({ in_use: true, pid: 4242, process: "postgres" });
    expect(probe.who(9229)).toEqual({ in_use: true });
    expect(probe.who(8080)).toEqual({ in_use: false });
  });

  test("a remembered owner is checked again: the socket passed to another process is found there", () => {
    const probe = procProbe(root);
    expect(probe.who(5432)).toMatchObject({ pid: 4242 });
    rmSync(join(root, "4242"), { recursive: true });
    mkdirSync(join(root, "4300/fd"), { recursive: true });
    writeFileSync(join(root, "4300/comm"), "postgres\n");
    symlinkSync("socket:[111]", join(root, "4300/fd/3"));
    expect(probe.who(5432)).toEqual({ in_use: true, pid: 4300, process: "postgres" });
  });

  test("a missing tcp6 table is not an error", () => {
    rmSync(join(root, "net/tcp6"));
    expect(procProbe(root).listening()(5432)).toBe(true);
  });
});

describe("bindProbe (where the kernel's table cannot be read)", () => {
  test("a port bound on 127.0.0.1 or 0.0.0.0 is in use; once closed it is free", () => {
    const probe = bindProbe();
    for (const hostname of ["127.0.0.1", "0.0.0.0"]) {
      const listener = listen(hostname);
      const port = listener.port;
      try {
        expect(probe.listening()(port)).toBe(true);
        expect(probe.who(port).in_use).toBe(true);
      } finally {
        listener.stop(true);
      }
      expect(probe.listening()(port)).toBe(false);
      expect(probe.who(port)).toEqual({ in_use: false });
    }
  });
});

describe("batchedListening", () => {
  test("checks asked in one turn share one look, taken after the last of them", async () => {
    const probe = fakeProbe([5432]);
    const listening = batchedListening(probe);
    const answers = Promise.all([listening(5432), listening(3000), listening(6379)]);
    // Started after the questions, before the look: the answer still sees it.
    probe.bound.add(6379);
    expect(await answers).toEqual([true, false, true]);
    expect(probe.snapshots).toBe(1);
    // The next turn looks again.
    probe.bound.delete(5432);
    expect(await listening(5432)).toBe(false);
    expect(probe.snapshots).toBe(2);
  });

  test("a failed look fails every check of its batch, and the next batch looks afresh", async () => {
    const probe = fakeProbe();
    let broken = true;
    const listening = batchedListening({
      ...probe,
      listening: () => (broken ? fail() : probe.listening()),
    });
    const results = await Promise.allSettled([listening(1), listening(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    broken = false;
    expect(await listening(1)).toBe(false);
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

  test.each([
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:",
    "127.0.0.1:abc",
    "http://x:1",
    "[::1]",
    "[::1]]:80",
    "::1:80",
    "127.0.0.1:+80",
    "127.0.0.1:８０",
  ])("refuses the malformed %p", (text) => {
    expect(() => parseAddress(text)).toThrow("PORT_SERVER_ADDR must look like 127.0.0.1:51234");
  });

  test.each(["0.0.0.0:8080", "example.com:8080", "192.168.1.2:8080", "[::]:8080", "[]:80"])(
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
      lock: "/s/port-server.lock",
      log: "/s/port-server.log",
      socket: "/s/port-server.sock",
    });
  });
});

function fail(): never {
  throw new Error("unavailable");
}
