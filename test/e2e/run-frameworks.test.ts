// Every kind of dev server the framework table names, for real: installed from npm (pinned,
// cached outside the repository by scripts/dev-servers.ts) or Debian, started through the
// compiled `portctl run` with no terminal — directly, through `npm run dev` and through `pnpm
// dev` — must answer on the registered port, draw no "listens elsewhere" warning, and leave
// nothing running after a SIGINT. A few kinds at a time; one kind's ways one after another
// (they share the project's build caches).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { systemProbe } from "../../src/core/probe.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { checkedFetch } from "../helpers/contract.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  appOf,
  devApp,
  killAll,
  type Run,
  startPortctl,
  unavailable,
  waitForPage,
} from "../helpers/devservers.ts";
import { isAlive, waitUntil } from "../helpers/processes.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/dev-servers");

interface Kind {
  /** The command started directly; `npm run dev` and `pnpm dev` run the fixture's script. */
  direct: string[];
  /** What the page says once the server answers. */
  text: string;
  /** Where that page is (default `/`). */
  path?: string;
  /**
   * A heavy server (a minute or more per start here) is started directly and through `npm run
   * dev` only: `pnpm dev` takes the same path through the script as npm, and every light kind
   * tries it.
   */
  heavy?: boolean;
  /**
   * Debian: what must be there (a command, `python3:module`, `ruby:gem`, or a file); npm kinds
   * have none.
   */
  needs?: string[];
  /** Debian: the app is made in this folder by this command (run there), not copied. */
  generate?: string[];
}

const NPM: Record<string, Kind> = {
  vite: { direct: ["vite"], text: "hello from vite" },
  next: { direct: ["next", "dev"], text: "hello from next" },
  astro: { direct: ["astro", "dev"], text: "hello from astro" },
  nuxt: { direct: ["nuxt", "dev"], text: "hello from nuxt" },
  sveltekit: { direct: ["vite", "dev"], text: "hello from sveltekit" },
  "react-router": { direct: ["react-router", "dev"], text: "hello from react-router" },
  remix: { direct: ["remix", "vite:dev"], text: "hello from remix" },
  vinxi: { direct: ["vinxi", "dev"], text: "hello from vinxi" },
  angular: { direct: ["ng", "serve"], text: "hello from angular" },
  webpack: { direct: ["webpack", "serve"], text: "hello from webpack" },
  parcel: { direct: ["parcel", "index.html"], text: "hello from parcel" },
  storybook: { direct: ["storybook", "dev"], text: "storybook" },
  express: { direct: ["node", "server.js"], text: "hello from express" },
  serve: { direct: ["serve", "public"], text: "hello from serve" },
  "http-server": { direct: ["http-server", "public"], text: "hello from http-server" },
  // SolidStart 2 and Qwik City are Vite plugins: their servers are `vite dev` and `vite --mode ssr`.
  solidstart: { direct: ["vite", "dev"], text: "hello from solidstart" },
  // SolidStart 1 runs on Vinxi.
  solidstart1: { direct: ["vinxi", "dev"], text: "hello from solidstart1" },
  qwik: { direct: ["vite", "--mode", "ssr"], text: "hello from qwik" },
  // Gatsby's development page is rendered in the browser: the page data naming the fixture's
  // page is what answers. Its fixture overrides sharp to 0.33: 0.32's install script downloads
  // libvips from outside npm.
  gatsby: {
    direct: ["gatsby", "develop"],
    text: "component---src-pages-index-js",
    path: "/page-data/index/page-data.json",
    heavy: true,
  },
  docusaurus: { direct: ["docusaurus", "start"], text: "hello from docusaurus", heavy: true },
  // Expo's Metro: the app's bundle, built for Android on request.
  expo: {
    direct: ["expo", "start"],
    text: "hello from expo",
    path: "/index.bundle?platform=android&dev=true",
    heavy: true,
  },
};

const DEBIAN: Record<string, Kind> = {
  django: {
    direct: ["python3", "manage.py", "runserver"],
    text: "hello from django",
    needs: ["python3:django"],
  },
  flask: { direct: ["flask", "--app", "app", "run"], text: "hello from flask", needs: ["flask"] },
  uvicorn: { direct: ["uvicorn", "app:app"], text: "hello from uvicorn", needs: ["uvicorn"] },
  hugo: { direct: ["hugo", "server"], text: "hello from hugo", needs: ["hugo"] },
  php: { direct: ["php", "-S", "127.0.0.1:{port}"], text: "hello from php", needs: ["php"] },
  mkdocs: { direct: ["mkdocs", "serve"], text: "hello from mkdocs", needs: ["mkdocs"] },
  jekyll: { direct: ["jekyll", "serve"], text: "hello from jekyll", needs: ["jekyll"] },
  // A Laravel 8 app on Debian's php-laravel-framework (no Composer: its autoloader).
  laravel: {
    direct: ["php", "artisan", "serve"],
    text: "hello from laravel",
    needs: ["php", "/usr/share/php/Illuminate/autoload.php"],
  },
  // A Rails 6.1 app on Debian's railties and puma (no Bundler: the system's gems).
  rails: { direct: ["rails", "server"], text: "hello from rails", needs: ["rails", "puma"] },
  // The app `rails new` makes, on Debian's gems: Bundler resolves its Gemfile from them, once
  // the gems Debian cannot give here are out of it (sass-rails and byebug; the ruby version).
  "rails-new": {
    direct: ["bin/rails", "server"],
    text: "on Rails!",
    needs: ["rails", "ruby:rails", "ruby:sqlite3", "ruby:puma", "ruby:listen"],
    generate: [
      "sh",
      "-c",
      "rails new ds-rails-new --skip-bundle --minimal --skip-git --skip-javascript --quiet && " +
        'sed -i "/sass-rails\\|byebug\\|^ruby \'/d" ds-rails-new/Gemfile',
    ],
  },
};

/** Debian's programs, not another Python or Node the machine's PATH may put first. */
const DEBIAN_PATH = "/usr/local/bin:/usr/bin:/bin";
const SLOTS = 3;

let home: TempHome;
let daemon: Daemon;
let portctl: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  home = tempHome("portctl-frameworks-");
  [daemon, portctl] = await Promise.all([
    startDaemon({ home }),
    builtBinaries().then((dir) => join(dir, "portctl")),
  ]);
}, 120_000);
afterAll(async () => {
  await daemon?.stop();
  home.cleanup();
  for (const c of cleanups) c();
});

for (const [kind, k] of Object.entries(NPM)) {
  const ways = [k.direct, ["npm", "run", "dev"], ...(k.heavy ? [] : [["pnpm", "dev"]])];
  const named = k.heavy ? "direct and npm run dev" : "direct, npm run dev and pnpm dev";
  test.concurrent(`${kind}: ${named}, each on its registered port`, async () => {
    await slot(async () => {
      const app = await devApp(kind);
      if (!app) return;
      cleanups.push(app.cleanup);
      for (const command of ways) await serveOnce(kind, command, k, app.dir, app.path);
    });
  }, 900_000);
}

for (const [kind, k] of Object.entries(DEBIAN)) {
  test.concurrent(`${kind} (Debian): on its registered port`, async () => {
    const missing = (k.needs ?? []).filter((n) => !available(n));
    if (missing.length) return unavailable(kind, `${missing.join(", ")} not installed`);
    await slot(async () => {
      const dir = mkdtempSync(join(tmpdir(), `portctl-${kind}-`));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const app = join(dir, `ds-${kind}`);
      if (k.generate) {
        const made = Bun.spawnSync(k.generate, { cwd: dir, env: { PATH: DEBIAN_PATH, HOME: dir } });
        expect(made.exitCode, `${k.generate.join(" ")}: ${made.stderr}`).toBe(0);
      } else cpSync(join(FIXTURES, kind), app, { recursive: true });
      await serveOnce(kind, k.direct, k, app, DEBIAN_PATH);
    });
    // The wait for a slot counts too; a test that times out leaves its server running.
  }, 900_000);
}

// --- internal ---

/**
 * One start: the page answers on the port registered for the service, portctl said nothing
 * about another port, and a SIGINT leaves nothing of the tree and a free port.
 */
async function serveOnce(kind: string, command: string[], k: Kind, dir: string, path: string) {
  const service = `s${Math.random().toString(36).slice(2, 8)}`;
  const port = await register(dir, service);
  // Temp files (Metro's caches) go beside the app and are removed with it.
  const tmp = join(dirname(dir), "tmp");
  mkdirSync(tmp, { recursive: true });
  const run = startPortctl(portctl, ["run", "--service", service, "--", ...command], {
    cwd: dir,
    env: {
      ...home.env,
      PATH: path,
      TMPDIR: tmp,
      PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`,
      NEXT_TELEMETRY_DISABLED: "1",
      NUXT_TELEMETRY_DISABLED: "1",
      STORYBOOK_DISABLE_TELEMETRY: "1",
      ASTRO_TELEMETRY_DISABLED: "1",
      GATSBY_TELEMETRY_DISABLED: "1",
      EXPO_NO_TELEMETRY: "1",
      // Expo asks its API for versions first; here there is none to ask.
      EXPO_OFFLINE: "1",
      NG_CLI_ANALYTICS: "false",
      BROWSER: "none",
    },
  });
  const what = `${kind} via ${command.join(" ")}`;
  let tree: number[] = [];
  try {
    const url = `http://localhost:${port}${k.path ?? "/"}`;
    const page = await waitForPage(url, k.text, run, 240_000, k.path ? 120_000 : 5000);
    expect(page.toLowerCase(), report(what, run)).toContain(k.text.toLowerCase());
    // Announced with the registered port (after the URL the names proxy gives it).
    expect(run.err(), what).toMatch(new RegExp(`/${service} → \\S+ \\(port ${port}\\)\n`));
    tree = run.tree();
    // The watch has had its moment: the server listens on the registered port.
    await Bun.sleep(1500);
    // portctl's own line (the servers may print warnings of their own).
    expect(run.err(), report(what, run)).not.toContain(`/${service} is registered on ${port}, but`);
    run.proc.kill("SIGINT");
    await run.done();
    await waitUntil(() => !tree.some(isAlive), 5000);
    expect(tree.filter(isAlive), report(what, run)).toEqual([]);
    expect(systemProbe().who(port).in_use, what).toBe(false);
  } finally {
    killAll([...tree, ...run.tree()]);
  }
}

function report(what: string, run: Run): string {
  return `${what}\n--- stdout\n${run.out().slice(-3000)}\n--- stderr\n${run.err().slice(-3000)}`;
}

/**
 * The service on a port the kernel just handed out (the range's first may be anyone's). The
 * servers started beside this one bind ports of their own (HMR sockets, workers) between the
 * kernel's answer and the registry's look: a 409 then asks the kernel again.
 */
async function register(dir: string, service: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = freePort();
    const res = await checkedFetch(`${daemon.url}/v1/allocations`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ app: appOf(dir), instance: "default", service, port, checkout: dir }),
    });
    if (res.status === 409 && attempt < 5) continue;
    expect(res.status).toBe(201);
    return port;
  }
}

function available(need: string): boolean {
  if (need.startsWith("/")) return existsSync(need);
  const [cmd = "", module] = need.split(":");
  if (!Bun.which(cmd, { PATH: DEBIAN_PATH })) return false;
  if (!module) return true;
  const check = cmd === "ruby" ? ["-e", `gem "${module}"`] : ["-c", `import ${module}`];
  return Bun.spawnSync([cmd, ...check], { env: { PATH: DEBIAN_PATH } }).success;
}

let running = 0;
const queue: (() => void)[] = [];
/** At most SLOTS servers start at once: the machine has two cores and other tests. */
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= SLOTS) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}
