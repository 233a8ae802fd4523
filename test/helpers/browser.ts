// A real headless Chromium for the dashboard tests: Debian's `chromium` driven by
// playwright-core (no browser download). Where none is installed the tests skip with one
// printed line, except under CI=true, where a missing browser is a failure.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  // macOS (GitHub's macOS runners have it)
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** The browser's path, or undefined (after saying so) when the tests must be skipped. */
export function chromiumPath(): string | undefined {
  const path = process.env.CHROMIUM_PATH || CANDIDATES.find((p) => existsSync(p));
  if (path) return path;
  if (process.env.CI === "true") {
    throw new Error("no Chromium (apt-get install -y chromium): the browser tests must run in CI");
  }
  console.log(
    "chromium is not installed: skipping the browser tests (apt-get install -y chromium)",
  );
  return undefined;
}

export function launch(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    // Root in a container needs --no-sandbox; the rest keeps Chromium off the (closed) network.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}
