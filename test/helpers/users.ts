// A second, real user for the tests of a shared host (#28): created with useradd where the
// tests run as root (CI does), removed afterwards; commands run as that user through setpriv.
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** A temp HOME of theirs (0700, theirs). */
  home: string;
  /** Runs `cmd` as this user, to completion; killed after `timeoutMs`. */
  run(
    cmd: string[],
    opts?: {
      env?: Record<string, string>;
      cwd?: string;
      timeoutMs?: number;
      /** Supplementary groups (the Docker socket's), else none. */
      groups?: number[];
    },
  ): Promise<Run>;
  remove(): void;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Root, with useradd and setpriv: the only place a second user can be made. */
export function canMakeUsers(): boolean {
  return (
    process.platform === "linux" &&
    process.getuid?.() === 0 &&
    Bun.which("useradd") !== null &&
    Bun.which("userdel") !== null &&
    Bun.which("setpriv") !== null
  );
}

/** A new user with a unique name (pst + random), no home of its own in /home, no login shell. */
export function makeUser(): TestUser {
  const name = `pst${crypto.getRandomValues(new Uint32Array(1))[0]?.toString(36)}`;
  const add = Bun.spawnSync(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name]);
  if (add.exitCode !== 0) throw new Error(`useradd ${name}: ${add.stderr.toString()}`);
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, name]).stdout.toString().trim());
  const uid = id("-u");
  const gid = id("-g");
  const home = mkdtempSync(join(tmpdir(), `port-server-${name}-`));
  chownSync(home, uid, gid);
  chmodSync(home, 0o700);
  return {
    name,
    uid,
    gid,
    home,
    async run(cmd, opts = {}) {
      const proc = Bun.spawn(
        [
          "setpriv",
          `--reuid=${uid}`,
          `--regid=${gid}`,
          ...(opts.groups?.length ? [`--groups=${opts.groups.join(",")}`] : ["--clear-groups"]),
          "--",
          ...cmd,
        ],
        {
          cwd: opts.cwd ?? home,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...opts.env },
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
      const [stdout, stderr] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
      ]);
      await proc.exited;
      clearTimeout(timer);
      return { code: proc.exitCode, stdout, stderr };
    },
    remove() {
      rmSync(home, { recursive: true, force: true });
      Bun.spawnSync(["userdel", name]);
    },
  };
}

/** A copy of an executable in a folder every user may enter and run (mode 0755). */
export function shareExecutable(path: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "port-server-bin-"));
  chmodSync(dir, 0o755);
  const copy = join(dir, "portctl");
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return { path: copy, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
