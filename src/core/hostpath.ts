// A checkout path sent from inside a container, as the host sees it (#28). A dev container's
// workspace is a bind mount of a host folder: the client's mount table (/proc/<pid>/mountinfo,
// the pid from SO_PEERCRED) says which device and which folder of it the container path is,
// and ours says where that folder of that device is mounted here. A path on the container's
// own file system (not a bind mount) has no host path: the caller records none and says so.
import { readFileSync, readlinkSync, statSync } from "node:fs";

export interface Mount {
  /** `major:minor` of the device. */
  dev: string;
  /** The folder of the device mounted here. */
  root: string;
  /** Where it is mounted. */
  point: string;
}

/** The mounts of a mountinfo text (proc(5)), octal escapes (`\040`) decoded. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length < 5 || !f[2]?.includes(":")) continue;
    out.push({
      dev: f[2],
      root: unescapeOctal(f[3] as string),
      point: unescapeOctal(f[4] as string),
    });
  }
  return out;
}

/**
 * `path` of the container whose mounts are `theirs`, as a path of the mount table `ours`:
 * undefined when it is not under a bind mount, or no mount of ours shows that folder.
 */
export function translate(path: string, theirs: Mount[], ours: Mount[]): string | undefined {
  const mount = longest(
    theirs.filter((m) => within(path, m.point)),
    (m) => m.point,
  );
  // The container's own root file system is not a workspace mounted from the host.
  if (!mount || mount.point === "/") return undefined;
  const onDevice = join(mount.root, rest(path, mount.point));
  const host = longest(
    ours.filter((m) => m.dev === mount.dev && within(onDevice, m.root)),
    (m) => m.root,
  );
  return host ? join(host.point, rest(onDevice, host.root)) : undefined;
}

export type HostPath =
  | { kind: "same" }
  | { kind: "translated"; path: string }
  | { kind: "unknown"; why: string };

/**
 * Where the peer process `pid` (another mount namespace: a container) has `path`, on this
 * host; `same` when it shares our mount namespace. Checked: the folder found here is the one
 * the container sees (same device and inode) where we may look into the container.
 */
export function hostPathOf(pid: number, path: string, proc = "/proc"): HostPath {
  try {
    if (readlinkSync(`${proc}/${pid}/ns/mnt`) === readlinkSync(`${proc}/self/ns/mnt`)) {
      return { kind: "same" };
    }
  } catch {
    // Another user's process, to a daemon that is not root: we cannot tell whether it is in a
    // container, so its path is taken as it was sent, as over TCP.
    return { kind: "same" };
  }
  let theirs: Mount[];
  let ours: Mount[];
  try {
    theirs = parseMountinfo(readFileSync(`${proc}/${pid}/mountinfo`, "utf8"));
    ours = parseMountinfo(readFileSync(`${proc}/self/mountinfo`, "utf8"));
  } catch {
    return { kind: "unknown", why: "its mount table cannot be read" };
  }
  const host = translate(path, theirs, ours);
  if (!host) return { kind: "unknown", why: `${path} is not a folder mounted from the host` };
  if (!sameFolder(host, `${proc}/${pid}/root${path}`)) {
    return { kind: "unknown", why: `${path} is not what the host has at ${host}` };
  }
  return { kind: "translated", path: host };
}

// --- internal ---

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

function within(path: string, dir: string): boolean {
  return dir === "/" || path === dir || path.startsWith(`${dir}/`);
}

function rest(path: string, dir: string): string {
  return dir === "/" ? path : path.slice(dir.length);
}

function join(a: string, b: string): string {
  if (!b || b === "/") return a;
  return `${a.replace(/\/$/, "")}/${b.replace(/^\//, "")}`;
}

function longest<T>(items: T[], key: (t: T) => string): T | undefined {
  let best: T | undefined;
  for (const t of items) if (!best || key(t).length > key(best).length) best = t;
  return best;
}

/** Same device and inode; where the container cannot be looked into, the host folder must exist. */
function sameFolder(host: string, inContainer: string): boolean {
  let h: ReturnType<typeof statSync>;
  try {
    h = statSync(host);
  } catch {
    return false;
  }
  if (!h.isDirectory()) return false;
  try {
    const c = statSync(inContainer);
    return c.dev === h.dev && c.ino === h.ino;
  } catch {
    return true;
  }
}
