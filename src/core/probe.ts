// Is a TCP port in use on this machine, and by whom? "In use" has one meaning everywhere (check,
// claim, auto-assign, list): a socket is LISTENING on the port, on any local address, IPv4 or
// IPv6. A port whose only trace is a TIME_WAIT connection, or a socket bound but not listening,
// is free: a server (which sets SO_REUSEADDR) can start on it. Every answer is read from the
// machine at the moment it is asked; nothing is cached.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { SystemUse } from "./model.ts";
import { type KernelListener, type ListenerReader, openSockDiag } from "./sockdiag.ts";

export interface Probe {
  /** The ports listening on this machine, read now (one look serves many ports). */
  listening(): (port: number) => boolean;
  /** Whether a port is listening, with the owning process where the OS lets us see it. */
  who(port: number): SystemUse;
}

/** Linux: the kernel's listener table (sock_diag), else `/proc/net/tcp{,6}`; elsewhere a bind test. */
export function systemProbe(platform: NodeJS.Platform = process.platform): Probe {
  if (platform !== "linux") return bindProbe();
  const reader = kernelReader();
  return reader ? kernelProbe(reader, "/proc") : procProbe("/proc");
}

let sharedReader: ListenerReader | null | undefined;

/** The process's one netlink sock_diag socket, opened on first use; undefined where there is none. */
export function kernelReader(): ListenerReader | undefined {
  sharedReader ??= openSockDiag() ?? null;
  return sharedReader ?? undefined;
}

/**
 * Asks for many ports at once: checks made within one turn of the event loop share one look
 * at the machine, taken after the last of them was asked, so no answer predates its question
 * (a server that started listening a moment before is always seen) and a busy daemon looks
 * once per batch rather than once per request.
 */
export function batchedListening(probe: Probe): (port: number) => Promise<boolean> {
  let waiting: {
    port: number;
    resolve: (listening: boolean) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const answer = () => {
    const batch = waiting;
    waiting = [];
    try {
      const listening = probe.listening();
      for (const w of batch) w.resolve(listening(w.port));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };
  return (port) =>
    new Promise((resolve, reject) => {
      if (waiting.length === 0) setImmediate(answer);
      waiting.push({ port, resolve, reject });
    });
}

/** Listeners from the kernel (sock_diag); owners by socket inode through `<root>/<pid>/fd`. */
export function kernelProbe(reader: ListenerReader, root: string): Probe {
  return listenerProbe(() => reader.read(), root);
}

/** Linux without sock_diag: `<root>/net/tcp{,6}`, read on every call (slower: every socket is listed). */
export function procProbe(root: string): Probe {
  return listenerProbe(() => readProcListeners(root), root);
}

/**
 * Where neither is available (macOS): a port is in use when it cannot be bound on any address
 * Docker and dev servers use. Close to "listening", not the same (a TIME_WAIT connection may
 * refuse the bind); check and claim still give one answer, as both ask this.
 */
export function bindProbe(): Probe {
  return {
    listening: () => isBound,
    who(port) {
      if (!isBound(port)) return { in_use: false };
      return { in_use: true, ...lsofOwner(port) };
    },
  };
}

// --- internal ---

/** The process holding a listening socket: its fd too, to check cheaply that it still does. */
export interface Owner {
  inode: number;
  pid: number;
  fd: string;
  process?: string;
}

function listenerProbe(read: () => KernelListener[], root: string): Probe {
  // A socket's owner seldom changes; finding it walks every process's fds, so remember it per
  // inode (checked again on use) for as long as the socket listens.
  const owners = new Map<number, Owner>();
  return {
    listening() {
      const ports = new Set(read().map((l) => l.port));
      return (port) => ports.has(port);
    },
    who(port) {
      const listeners = read();
      const live = new Set(listeners.map((l) => l.inode));
      for (const inode of owners.keys()) if (!live.has(inode)) owners.delete(inode);
      const inodes = listeners.filter((l) => l.port === port).map((l) => l.inode);
      if (inodes.length === 0) return { in_use: false };
      const owner = rememberedOwner(root, owners, inodes) ?? findOwner(root, inodes);
      if (!owner) return { in_use: true };
      owners.set(owner.inode, owner);
      return { in_use: true, pid: owner.pid, ...(owner.process ? { process: owner.process } : {}) };
    },
  };
}

function rememberedOwner(
  root: string,
  owners: Map<number, Owner>,
  inodes: number[],
): Owner | undefined {
  for (const inode of inodes) {
    const o = owners.get(inode);
    if (o && fdLink(root, String(o.pid), o.fd) === `socket:[${inode}]`) return o;
  }
  return undefined;
}

function findOwner(root: string, inodes: number[]): Owner | undefined {
  return socketOwners(root, inodes, true).values().next().value;
}

/**
 * The processes holding these sockets, by inode, in one walk over `<root>/<pid>/fd`; with
 * `first`, the walk stops at the first one found. Unreadable processes (another user's, or gone)
 * are skipped.
 */
export function socketOwners(
  root: string,
  inodes: Iterable<number>,
  first = false,
): Map<number, Owner> {
  const targets = new Map([...inodes].map((i) => [`socket:[${i}]`, i]));
  const found = new Map<number, Owner>();
  if (targets.size === 0) return found;
  let pids: string[];
  try {
    pids = readdirSync(root).filter((d) => /^\d+$/.test(d));
  } catch {
    return found;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${root}/${pid}/fd`);
    } catch {
      continue; // another user's process, or it just exited
    }
    for (const fd of fds) {
      const inode = targets.get(fdLink(root, pid, fd) ?? "");
      if (inode === undefined || found.has(inode)) continue;
      found.set(inode, { pid: Number(pid), fd, inode, ...processName(root, pid) });
      if (first || found.size === targets.size) return found;
    }
  }
  return found;
}

function fdLink(root: string, pid: string, fd: string): string | undefined {
  try {
    return readlinkSync(`${root}/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function processName(root: string, pid: string): { process?: string } {
  try {
    const name = readFileSync(`${root}/${pid}/comm`, "utf8").trim();
    return name ? { process: name } : {};
  } catch {
    return {};
  }
}

const TCP_TABLES = ["net/tcp", "net/tcp6"];
const TCP_LISTEN = "0A";

/** Listening sockets from `<root>/net/tcp{,6}`: the fallback where sock_diag is not available. */
export function readProcListeners(root: string): KernelListener[] {
  return TCP_TABLES.flatMap((file) => {
    try {
      return parseProcListeners(readFileSync(`${root}/${file}`, "latin1"));
    } catch {
      return []; // no IPv6 in this kernel or namespace
    }
  });
}

function parseProcListeners(text: string): KernelListener[] {
  const out: KernelListener[] = [];
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== TCP_LISTEN) continue;
    const local = cols[1] ?? "";
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (port > 0) out.push({ port, inode: Number(cols[9]) });
  }
  return out;
}

const BIND_HOSTS = ["127.0.0.1", "0.0.0.0", "::"];

function isBound(port: number): boolean {
  return BIND_HOSTS.some((hostname) => {
    try {
      Bun.listen({ hostname, port, socket: { data() {} } }).stop(true);
      return false;
    } catch (err) {
      // Any other error (no IPv6 here, say) says nothing about the port.
      return (err as { code?: string }).code === "EADDRINUSE";
    }
  });
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
