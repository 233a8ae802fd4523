// Small file systems for storage-failure tests: a tmpfs that can fill up or turn read-only, and
// a loop-mounted ext4 image where `chattr +i` makes files unwritable even for root. Mounting
// needs privileges the sandbox may not grant, so each setup returns the reason it could not
// work instead of throwing, for a `test.skipIf` that says why.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SERVER_MAIN } from "./daemon.ts";

export interface Mount {
  /** Where the test reaches the file system (under /proc/<pid>/root for a namespaced mount). */
  dir: string;
  /** Where the daemon sees it: pass this in `--db`. */
  daemonDir: string;
  /** A `bin` for startDaemon when the mount lives in the daemon's own namespace. */
  bin?: string;
  /** After `startDaemon`: a namespaced mount is reached through the daemon's /proc entry. */
  attach(pid: number): void;
  unmount(): void;
}

/**
 * A tmpfs of `bytes` under `parent`: mounted directly where we may (root, CAP_SYS_ADMIN); else
 * inside a fresh user + mount namespace that the daemon itself runs in (`unshare -Urm`), which
 * an unprivileged user may create on most Linux systems. A string says why neither worked.
 */
export function tmpfs(parent: string, bytes: number): Mount | string {
  const dir = join(parent, "tmpfs");
  mkdirSync(dir, { recursive: true });
  const direct = sh(["mount", "-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir]);
  if (direct === undefined) return plainMount(dir, () => umount(dir));
  const nested = sh([
    "unshare",
    "-Urm",
    "mount",
    "-t",
    "tmpfs",
    "-o",
    `size=${bytes},mode=0700`,
    "tmpfs",
    dir,
  ]);
  if (nested !== undefined)
    return `cannot mount a tmpfs: ${direct}; in a user namespace: ${nested}`;
  return namespacedMount(parent, dir, bytes);
}

/** A loop-mounted ext4 image of `bytes` (chattr needs a file system that has attributes). */
export function ext4(parent: string, bytes: number): Mount | string {
  const dir = join(parent, "ext4");
  const image = join(parent, "ext4.img");
  mkdirSync(dir, { recursive: true });
  writeFileSync(image, "");
  const failed =
    sh(["truncate", "-s", String(bytes), image]) ??
    sh(["mkfs.ext4", "-q", "-F", image]) ??
    sh(["mount", "-o", "loop", image, dir]);
  if (failed !== undefined) return `cannot loop-mount an ext4 image: ${failed}`;
  return plainMount(dir, () => {
    umount(dir);
    rmSync(image, { force: true });
  });
}

/** Remounts a directly mounted file system read-only or read-write; returns an error text. */
export function remount(dir: string, mode: "ro" | "rw"): string | undefined {
  return sh(["mount", "-o", `remount,${mode}`, dir]);
}

/** `chattr +i` / `-i`: immutable files refuse every write, root's included. */
export function chattr(flag: "+i" | "-i", paths: string[]): string | undefined {
  return sh(["chattr", flag, ...paths]);
}

/** Whether a setup works here at all, tried once in a throwaway dir: the reason if not. */
export function unavailable(setup: (parent: string) => Mount | string): string | undefined {
  const parent = mkdtempSync(join(tmpdir(), "port-server-mount-probe-"));
  try {
    const mount = setup(parent);
    if (typeof mount === "string") return mount;
    mount.unmount();
    return undefined;
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}

// --- internal ---

function plainMount(dir: string, unmount: () => void): Mount {
  return { dir, daemonDir: dir, attach() {}, unmount };
}

/**
 * The daemon enters a new user + mount namespace, mounts the tmpfs there and execs itself as
 * port-server (same pid throughout). The test reaches that tmpfs through /proc/<pid>/root.
 */
function namespacedMount(parent: string, dir: string, bytes: number): Mount {
  const bin = join(parent, "port-server-in-namespace");
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  writeFileSync(
    bin,
    `#!/bin/sh
if [ "$1" != --in-namespace ]; then exec unshare -Urm "$0" --in-namespace "$@"; fi
shift
mount -t tmpfs -o size=${bytes},mode=0700 tmpfs ${quote(dir)} || exit 97
exec ${quote(process.execPath)} ${quote(SERVER_MAIN)} "$@"
`,
    { mode: 0o755 },
  );
  const mount: Mount = {
    dir,
    daemonDir: dir,
    bin,
    attach(pid) {
      mount.dir = `/proc/${pid}/root${dir}`;
    },
    unmount() {}, // the namespace, and its tmpfs, end with the daemon
  };
  return mount;
}

function umount(dir: string): void {
  // Lazily if something still holds it, so a failed test never leaves a mount behind.
  if (sh(["umount", dir]) !== undefined) sh(["umount", "-l", dir]);
}

/** Runs a command; undefined on success, else its error output (or why it could not run). */
function sh(cmd: string[]): string | undefined {
  try {
    const res = Bun.spawnSync(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    if (res.exitCode === 0) return undefined;
    return `${cmd.join(" ")}: ${res.stderr.toString().trim() || `exit ${res.exitCode}`}`;
  } catch (err) {
    return `${cmd[0]}: ${(err as Error).message}`;
  }
}
