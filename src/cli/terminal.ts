// Whether stdout is a terminal: colour, and a table fitted to the terminal's width.

/**
 * isatty(1), synchronously, through the runtime's own tty binding (~10 µs). Every public way
 * costs a cold `portctl check` far more: `process.stdout` ~7 ms, node:tty ~2.6 ms, node:fs
 * ~1 ms, and any `Bun.file().stat()` ~0.35 ms (it starts Bun's thread pool, which nothing
 * else on the check path needs); bench/cli-latency. Undefined when the binding is missing.
 */
function stdoutIsTerminalSync(): boolean | undefined {
  try {
    const tty = (process as unknown as { binding(name: string): unknown }).binding("tty_wrap");
    const isTTY = (tty as { isTTY?: unknown }).isTTY;
    return typeof isTTY === "function" ? isTTY(1) === true : undefined;
  } catch {
    return undefined;
  }
}

/** The fallback: a character device that is not /dev/null. Never rejects. */
export async function stdoutIsTerminal(): Promise<boolean> {
  const known = stdoutIsTerminalSync();
  if (known !== undefined) return known;
  try {
    const out = await Bun.file(1).stat();
    if (!out.isCharacterDevice()) return false;
    const nul = await Bun.file("/dev/null").stat();
    return out.rdev !== nul.rdev;
  } catch {
    return false;
  }
}
