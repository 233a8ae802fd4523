// Real git checkouts for detection tests: a repository with one empty commit and a linked
// worktree beside it. Git runs with no global or system config, so it works on any machine.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const GIT_ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
  GIT_TERMINAL_PROMPT: "0",
};

/** Runs git in `cwd`; throws with git's stderr when it fails. */
export function git(cwd: string, ...args: string[]): string {
  const res = Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    env: { ...GIT_ENV, HOME: cwd },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (res.exitCode !== 0) {
    throw new Error(`git ${args.join(" ")} failed: ${res.stderr.toString().trim()}`);
  }
  return res.stdout.toString().trim();
}

export interface Repo {
  /** `<parent>/<name>`: the main checkout, on `branch`. */
  main: string;
  /** `<parent>/wt-feature`: a linked worktree on the new branch `feature`. */
  worktree: string;
}

/** `git init -b <branch>` in `<parent>/<name>`, one empty commit, and a linked worktree. */
export function makeRepo(parent: string, name = "shop", branch = "main"): Repo {
  const main = join(parent, name);
  mkdirSync(main, { recursive: true });
  git(main, "init", "-q", "-b", branch);
  git(main, "commit", "-q", "--allow-empty", "-m", "init");
  git(main, "worktree", "add", "-q", "../wt-feature", "-b", "feature");
  return { main, worktree: join(parent, "wt-feature") };
}
