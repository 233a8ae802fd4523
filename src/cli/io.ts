// What a command needs from the outside world, injected so tests run commands directly.
import type { Env } from "../core/config.ts";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: Env;
  cwd: string;
  home: string;
  /** Colour and other niceties only for a terminal. */
  isTTY: boolean;
}

export async function processIo(): Promise<Io> {
  // console.* rather than process.stdout: in a compiled binary the first touch of
  // process.stdout costs about 10 ms, a third of a whole `portctl check`.
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: process.env,
    cwd: process.cwd(),
    home: process.env.HOME || (require("node:os") as typeof import("node:os")).homedir(),
    isTTY: await stdoutIsTerminal(),
  };
}

// --- internal ---

/**
 * A character device that is not /dev/null: a terminal. Through Bun.file rather than node:tty
 * or node:fs, whose loading costs a cold `portctl check` about 1 ms (of ~9).
 */
async function stdoutIsTerminal(): Promise<boolean> {
  try {
    const [out, nul] = await Promise.all([Bun.file(1).stat(), Bun.file("/dev/null").stat()]);
    return out.isCharacterDevice() && out.rdev !== nul.rdev;
  } catch {
    return false;
  }
}
