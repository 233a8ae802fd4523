// Is a TCP port bound on this machine, and by whom? On Linux the kernel's socket tables are read
// (no side effects); elsewhere a short bind test on each address Docker and dev servers use.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { SystemUse } from "./model.ts";

export interface Probe {
  /**
   * Listening ports as of a recent snapshot (about SNAPSHOT_TTL_MS old at most, while the
   * daemon is busy): cheap, for answering reads about allocated ports and for `portctl list`.
   * Never the last word before a port is handed out: that is `isBound`.
   */
  listening(): (port: number) => boolean;
  /** Is the port bound right now: the authoritative check before a port is handed out. */
  isBound(port: number): boolean;
  /** Whether one port is bound, with the owning process where the OS lets us see it. */
  who(port: number): SystemUse;
}

/** How long a snapshot of the machine's listening sockets is used before it is refreshed. */
export const SNAPSHOT_TTL_MS = 1000;

export function systemProbe(platform: NodeJS.Platform = process.platform): Probe {
  return platform === "linux" ? procProbe("/proc") : bindProbe();
}

/**
 * Linux: listening sockets from `/proc/net/tcp{,6}` (and their owners from `/proc/<pid>/fd`).
 * Reading those files walks the kernel's whole TCP hash table (milliseconds on a large machine,
 * more with many TIME_WAIT sockets). A snapshot serves for SNAPSHOT_TTL_MS; from half that age
 * a fresh one is read in the background, so a busy daemon never waits for one, and an older
 * snapshot (after an idle spell) is never used: it is read again on the spot.
 */
export function procProbe(root: string, now: () => number = Date.now): Probe {
  let snapshot: { at: number; ports: Set<number> } | undefined;
  let refreshing = false;
  const refresh = async () => {
    refreshing = true;
    try {
      const texts = await Promise.all(
        TCP_TABLES.map((f) =>
          Bun.file(`${root}/${f}`)
            .text()
            .catch(() => ""),
        ),
      );
      snapshot = { at: now(), ports: new Set(texts.flatMap(parseListeners).map((l) => l.port)) };
    } finally {
      refreshing = false;
    }
  };
  return {
    listening() {
      const t = now();
      if (!snapshot || t - snapshot.at >= SNAPSHOT_TTL_MS || t < snapshot.at) {
        snapshot = { at: t, ports: new Set(readListeners(root).map((l) => l.port)) };
      } else if (t - snapshot.at >= SNAPSHOT_TTL_MS / 2 && !refreshing) {
        void refresh();
      }
      const { ports } = snapshot;
      return (port) => ports.has(port);
    },
    isBound,
    who(port) {
      const inodes = new Set(
        readListeners(root)
          .filter((l) => l.port === port)
          .map((l) => l.inode),
      );
      if (inodes.size === 0) return { in_use: false };
      return { in_use: true, ...findOwner(root, inodes) };
    },
  };
}

/** A probe that tries to bind each address; used where `/proc` is not available. */
export function bindProbe(): Probe {
  return {
    listening: () => isBound,
    isBound,
    who(port) {
      if (!isBound(port)) return { in_use: false };
      return { in_use: true, ...lsofOwner(port) };
    },
  };
}

/**
 * Tries to bind the port. On Linux one dual-stack bind on `::` collides with a listener on any
 * local address, IPv4 or IPv6 (and `0.0.0.0` covers IPv4 where IPv6 is off); elsewhere each
 * address Docker and dev servers use is tried. About 14 µs a bind.
 */
export function isBound(port: number): boolean {
  if (process.platform === "linux") {
    const dual = tryBind("::", port);
    return dual === "unsupported" ? tryBind("0.0.0.0", port) === "in-use" : dual === "in-use";
  }
  return BIND_HOSTS.some((hostname) => tryBind(hostname, port) === "in-use");
}

// --- internal ---

const BIND_HOSTS = ["127.0.0.1", "0.0.0.0", "::"];
const TCP_LISTEN = "0A";

interface Listener {
  port: number;
  inode: string;
}

const TCP_TABLES = ["net/tcp", "net/tcp6"];

function readListeners(root: string): Listener[] {
  return TCP_TABLES.flatMap((file) => {
    try {
      return parseListeners(readFileSync(`${root}/${file}`, "latin1"));
    } catch {
      return []; // no IPv6 in this kernel or namespace
    }
  });
}

function parseListeners(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== TCP_LISTEN) continue;
    const local = cols[1] ?? "";
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (port > 0) out.push({ port, inode: cols[9] ?? "" });
  }
  return out;
}

function findOwner(root: string, inodes: Set<string>): { pid?: number; process?: string } {
  const targets = new Set([...inodes].map((i) => `socket:[${i}]`));
  let pids: string[];
  try {
    pids = readdirSync(root).filter((d) => /^\d+$/.test(d));
  } catch {
    return {};
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${root}/${pid}/fd`);
    } catch {
      continue; // another user's process, or it just exited
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${root}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(link)) return { pid: Number(pid), ...processName(root, pid) };
    }
  }
  return {};
}

function processName(root: string, pid: string): { process?: string } {
  try {
    const name = readFileSync(`${root}/${pid}/comm`, "utf8").trim();
    return name ? { process: name } : {};
  } catch {
    return {};
  }
}

function tryBind(hostname: string, port: number): "free" | "in-use" | "unsupported" {
  try {
    Bun.listen({ hostname, port, socket: { data() {} } }).stop(true);
    return "free";
  } catch (err) {
    // Any other error (no IPv6 here, say) says nothing about the port.
    return (err as { code?: string }).code === "EADDRINUSE" ? "in-use" : "unsupported";
  }
}

function lsofOwner(port: number): { pid?: number; process?: string } {
  try {
    const res = Bun.spawnSync(["lsof", "-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    const fields = res.stdout.toString().split("\n");
    const pid = fields.find((f) => f.startsWith("p"))?.slice(1);
    const name = fields.find((f) => f.startsWith("c"))?.slice(1);
    return { ...(pid ? { pid: Number(pid) } : {}), ...(name ? { process: name } : {}) };
  } catch {
    return {};
  }
}
