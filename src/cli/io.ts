// What a command needs from the outside world, injected so tests run commands directly.
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
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
    home: process.env.HOME || homedir(),
    isTTY: Boolean(process.stdout.isTTY),
  };
}
