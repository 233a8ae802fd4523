// What a command needs from the outside world, injected so tests run commands directly.
import { fstatSync, statSync } from "node:fs";
import { homedir } from "node:os";
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

export function processIo(): Io {
  // console.* rather than process.stdout: in a compiled binary the first touch of
  // process.stdout costs about 10 ms, a third of a whole `portctl check`.
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: process.env,
    cwd: process.cwd(),
    home: process.env.HOME || homedir(),
    isTTY: stdoutIsTerminal(),
  };
}

// --- internal ---

/** A character device that is not /dev/null: a terminal, without loading node:tty. */
function stdoutIsTerminal(): boolean {
  try {
    const out = fstatSync(1);
    return out.isCharacterDevice() && out.rdev !== statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}
