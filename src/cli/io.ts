// What a command needs from the outside world, injected so tests run commands directly.
import type { Env } from "../core/config.ts";
import { stdoutIsTerminal } from "./terminal.ts";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: Env;
  cwd: string;
  home: string;
  /** Colour and other niceties only for a terminal. */
  isTTY: boolean;
  /** Everything on standard input (a hook's JSON); absent where there is none to read. */
  readStdin?(): Promise<string>;
  /** Writes what `out` has buffered, if it buffers; `cli/main.ts` calls it before exiting. */
  flush?(): void;
  /** The terminal's width, when printing to one (tables fit it; see table.ts tableWidth). */
  readonly columns?: number;
}

export async function processIo(): Promise<Io> {
  // console.* rather than process.stdout: in a compiled binary the first touch of
  // process.stdout costs about 10 ms, a third of a whole `portctl check`. Lines go out in one
  // write per turn of the event loop, not one each (a 250-row `list` spent ~3 ms on writes);
  // stderr writes what stdout holds first, so a terminal shows both in order.
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("\n");
    pending = [];
    console.log(text);
  };
  const isTTY = await stdoutIsTerminal();
  return {
    out: (line) => {
      if (pending.push(line) === 1) queueMicrotask(flush);
    },
    err: (line) => {
      flush();
      writeErr(`${line}\n`);
    },
    flush,
    readStdin: () => Bun.stdin.text(),
    env: process.env,
    cwd: process.cwd(),
    home: process.env.HOME || (require("node:os") as typeof import("node:os")).homedir(),
    isTTY,
    // Asked only by a table on a terminal: process.stdout is the expensive part (see above).
    get columns() {
      return isTTY ? process.stdout.columns : undefined;
    },
  };
}

// --- internal ---

/**
 * stderr without console.error, which Bun paints red on a terminal (a whole warning or
 * `run`'s start line in red, our own colours or not). Synchronous, so nothing is lost when
 * main.ts exits right after; node:fs is loaded only when there is something to say.
 */
function writeErr(text: string): void {
  try {
    (require("node:fs") as typeof import("node:fs")).writeSync(2, text);
  } catch {
    console.error(text.slice(0, -1)); // EAGAIN on a non-blocking pipe: let Bun queue it
  }
}
