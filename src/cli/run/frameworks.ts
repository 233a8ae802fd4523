// Dev servers, and what each needs to listen on the registered port: a flag, a positional
// address, or a variable of its own. `portctl run` adds a row's part when the command (or the
// package.json script it runs) is one of the row's tools, the subcommand starts a server, and
// the user has not chosen a port already. Tools that read PORT have a row that adds nothing, so
// that a port the command fixes (`next dev -p 4000`) is seen and registered. One row per tool;
// add tools here only.

export interface Framework {
  /** The tool's name, as `portctl run` reports it. */
  name: string;
  /**
   * Executable names (the last path segment of argv[0], or what `npx`/a script runs); for
   * Python, the script (`manage.py`) or the module of `python -m` (`flask`, `uvicorn`).
   */
  bins: readonly string[];
  /**
   * Whether these arguments start a server. Called with the first argument that is not an
   * option (`undefined` when there is none) and all of them: `vite build` builds, `vite` and
   * `vite dev` serve.
   */
  serves: (subcommand: string | undefined, args: readonly string[]) => boolean;
  /** What to add to the arguments for `port` (may be none: `env` carries it). */
  flags: (port: number) => string[];
  /** Variables to set for `port` (Flask reads FLASK_RUN_PORT, not PORT). */
  env?: (port: number) => Record<string, string>;
  /** Options by which the user has already picked a port (`--port 4000`, `--port=4000`, `-p4000`). */
  portFlags: readonly string[];
  /** Variables by which the user's environment has already picked one (`FLASK_RUN_PORT`). */
  portEnv?: readonly string[];
  /** The port (or address) the user gave some other way: Django's `runserver 8000`. */
  ownPort?: (args: readonly string[]) => string | undefined;
}

const serving =
  (...subs: string[]) =>
  (sub: string | undefined) =>
    sub !== undefined && subs.includes(sub);
const portFlag = (port: number) => ["--port", String(port)];
/** Maven's goal (short or fully named) and Gradle's task that run a Spring Boot app. */
const SPRING_RUN =
  /^(?:spring-boot|org\.springframework\.boot:spring-boot-maven-plugin(?::[^:]+)?):run$|^bootRun$/;
/**
 * The application's `--server.port=N`, alone (Gradle's `--args --server.port=N`) or inside an
 * option's value (`--args=…`, `-Dspring-boot.run.arguments=…`), or `-Dserver.port=N` inside
 * `-Dspring-boot.run.jvmArguments=…`. A bare `-Dserver.port` sets Maven's or Gradle's own JVM,
 * not the forked application's, so it is no port of the user's: SERVER_PORT still goes in.
 */
const SPRING_PORT = /(?:^--|[\s=,'"](?:--|-D))server\.port=(\d+|[^\s,'"]*)/;

export const FRAMEWORKS: readonly Framework[] = [
  {
    // Vite reads no PORT; without --strictPort it quietly moves to the next port when the
    // registered one is taken, and the registry would point at the wrong server. SvelteKit,
    // SolidStart and Qwik run `vite dev` too.
    name: "vite",
    bins: ["vite"],
    serves: (sub) => sub === undefined || !["build", "optimize"].includes(sub),
    flags: (port) => [...portFlag(port), "--strictPort"],
    portFlags: ["--port"],
  },
  {
    // Astro's dev server and preview take --port; Astro has no strict mode, so the port is
    // checked before the start instead.
    name: "astro",
    bins: ["astro"],
    serves: serving("dev", "preview"),
    flags: portFlag,
    portFlags: ["--port"],
  },
  {
    // React Router's dev server is Vite underneath and takes Vite's two flags; so does Remix's.
    name: "react-router",
    bins: ["react-router"],
    serves: serving("dev"),
    flags: (port) => [...portFlag(port), "--strictPort"],
    portFlags: ["--port"],
  },
  {
    name: "remix",
    bins: ["remix"],
    serves: serving("vite:dev"),
    flags: (port) => [...portFlag(port), "--strictPort"],
    portFlags: ["--port"],
  },
  {
    // SolidStart before 2.0 and other Vinxi apps: `vinxi dev`. Vinxi reads PORT as well (a
    // run with no flag answers too); the flag is added all the same.
    name: "vinxi",
    bins: ["vinxi"],
    serves: serving("dev"),
    flags: portFlag,
    portFlags: ["--port"],
  },
  {
    // Angular CLI: `ng serve` (aliases `ng s`, `ng dev`) defaults to 4200 whatever PORT says.
    name: "angular",
    bins: ["ng"],
    serves: serving("serve", "s", "dev"),
    flags: portFlag,
    portFlags: ["--port"],
  },
  {
    // Expo's Metro bundler: `expo start`, which is also what a bare `expo` runs.
    name: "expo",
    bins: ["expo"],
    serves: (sub) => sub === undefined || sub === "start",
    flags: portFlag,
    portFlags: ["--port", "-p"],
  },
  {
    // Storybook 7+: `storybook dev -p N` (it would pick 6006, or ask, otherwise).
    name: "storybook",
    bins: ["storybook", "sb"],
    serves: serving("dev"),
    flags: (port) => ["-p", String(port)],
    portFlags: ["--port", "-p"],
  },
  {
    // webpack-cli's dev server command (`webpack serve`, aliases `server` and `s`).
    name: "webpack",
    bins: ["webpack", "webpack-cli"],
    serves: serving("serve", "server", "s"),
    flags: portFlag,
    portFlags: ["--port"],
  },
  {
    // The standalone webpack-dev-server executable: serving is all it does.
    name: "webpack-dev-server",
    bins: ["webpack-dev-server"],
    serves: () => true,
    flags: portFlag,
    portFlags: ["--port"],
  },
  {
    // Next.js reads PORT (`next dev`, `next start`); listed for its -p.
    name: "next",
    bins: ["next"],
    serves: serving("dev", "start"),
    flags: () => [],
    portFlags: ["--port", "-p"],
  },
  {
    // Nuxt reads PORT (also NUXT_PORT, NITRO_PORT).
    name: "nuxt",
    bins: ["nuxt", "nuxi"],
    serves: serving("dev", "preview"),
    flags: () => [],
    portFlags: ["--port", "-p"],
    portEnv: ["NUXT_PORT", "NITRO_PORT"],
  },
  {
    // Parcel reads PORT (`parcel index.html`, `parcel serve`).
    name: "parcel",
    bins: ["parcel"],
    serves: (sub) => sub !== "build" && sub !== "watch",
    flags: () => [],
    portFlags: ["--port", "-p"],
  },
  {
    // serve and http-server read PORT.
    name: "serve",
    bins: ["serve"],
    serves: () => true,
    flags: () => [],
    portFlags: ["--listen", "-l", "-p"],
  },
  {
    name: "http-server",
    bins: ["http-server"],
    serves: () => true,
    flags: () => [],
    portFlags: ["--port", "-p"],
  },
  {
    // Rails reads PORT: `rails server` (aliases s), `bin/rails server -p 4000`.
    name: "rails",
    bins: ["rails"],
    serves: serving("server", "s"),
    flags: () => [],
    portFlags: ["--port", "-p"],
  },
  {
    // Gatsby: `gatsby develop` listens on 8000 unless told.
    name: "gatsby",
    bins: ["gatsby"],
    serves: serving("develop"),
    flags: portFlag,
    portFlags: ["--port", "-p"],
  },
  {
    // Docusaurus reads PORT, but offers another port (or gives up, with no terminal) when it
    // is taken; the flag changes nothing else.
    name: "docusaurus",
    bins: ["docusaurus"],
    serves: serving("start", "serve"),
    flags: portFlag,
    portFlags: ["--port"],
  },
  {
    // Django: `manage.py runserver [addrport]` (also `django-admin` and `python -m django`),
    // 8000 unless given an address.
    name: "django",
    bins: ["manage.py", "django-admin", "django"],
    serves: serving("runserver"),
    flags: (port) => [String(port)],
    portFlags: [],
    ownPort: (args) => positionalAfter(args, "runserver", ["--settings", "--pythonpath", "-v"]),
  },
  {
    // `flask run` (or `python -m flask run`) takes 5000 from FLASK_RUN_PORT, not PORT.
    name: "flask",
    bins: ["flask"],
    serves: (_sub, args) => args.includes("run"),
    flags: () => [],
    env: (port) => ({ FLASK_RUN_PORT: String(port) }),
    portFlags: ["--port", "-p"],
    portEnv: ["FLASK_RUN_PORT"],
  },
  {
    // `uvicorn app:app` (or `python -m uvicorn`): 8000 unless --port (or UVICORN_PORT).
    name: "uvicorn",
    bins: ["uvicorn"],
    serves: () => true,
    flags: portFlag,
    portFlags: ["--port"],
    portEnv: ["UVICORN_PORT"],
  },
  {
    // Hugo's `hugo server` (aliases serve, s) listens on 1313.
    name: "hugo",
    bins: ["hugo"],
    serves: serving("server", "serve", "s"),
    flags: portFlag,
    portFlags: ["--port", "-p"],
  },
  {
    // Jekyll: `jekyll serve` (aliases s, server), 4000 unless --port / -P.
    name: "jekyll",
    bins: ["jekyll"],
    serves: serving("serve", "s", "server"),
    flags: portFlag,
    portFlags: ["--port", "-P"],
  },
  {
    // MkDocs: `mkdocs serve` takes an address, 127.0.0.1:8000 by default.
    name: "mkdocs",
    bins: ["mkdocs"],
    serves: serving("serve"),
    flags: (port) => ["--dev-addr", `127.0.0.1:${port}`],
    portFlags: ["--dev-addr", "-a"],
  },
  {
    // Laravel's `php artisan serve`: 8000, and the next free one when it is taken.
    name: "artisan",
    bins: ["artisan"],
    serves: serving("serve"),
    flags: portFlag,
    portFlags: ["--port"],
    portEnv: ["SERVER_PORT"],
  },
  {
    // Phoenix: `mix phx.server`. Apps generated by Phoenix 1.8 read PORT in config/runtime.exs,
    // for every environment; older generators wrote 4000 into config/dev.exs, and the
    // listens-elsewhere warning then says so. There is no flag to add.
    name: "phoenix",
    bins: ["mix"],
    serves: (_sub, args) => args.includes("phx.server"),
    flags: () => [],
    portFlags: [],
  },
  {
    // Spring Boot through Maven (`mvn spring-boot:run`, `./mvnw …`) or Gradle (`gradle bootRun`,
    // `./gradlew …`): 8080 unless told; SERVER_PORT reaches the forked application, where it
    // outranks application.properties. `--server.port=N` given to the application (Maven's
    // -Dspring-boot.run.arguments, Gradle's --args) is the user's own.
    name: "spring-boot",
    bins: ["mvn", "mvnw", "gradle", "gradlew"],
    serves: (_sub, args) => args.some((a) => SPRING_RUN.test(a)),
    flags: () => [],
    env: (port) => ({ SERVER_PORT: String(port) }),
    portFlags: [],
    portEnv: ["SERVER_PORT"],
    ownPort: (args) => args.map((a) => SPRING_PORT.exec(a)?.[1]).find((p) => p !== undefined),
  },
  {
    // Go's live reloader `air` (`air`, `air -c .air.toml`) builds and runs the app, which gets
    // air's environment: a server that reads PORT needs nothing more.
    name: "air",
    bins: ["air"],
    serves: (sub) => sub !== "init" && sub !== "version",
    flags: () => [],
    portFlags: [],
  },
  {
    // PHP's built-in server: `php -S localhost:8000` always names its address, so there is
    // nothing to add; `{port}` in it (`php -S localhost:{port}`) is the registered port.
    name: "php",
    bins: ["php"],
    serves: (_sub, args) => args.some((a) => a.startsWith("-S")),
    flags: () => [],
    portFlags: ["-S"],
  },
];

/** The row whose executables include `bin` (a bare name, no folder). */
export function frameworkFor(bin: string): Framework | undefined {
  return FRAMEWORKS.find((f) => f.bins.includes(bin));
}

/**
 * The port the user already gave in `args` or `env`, if any: `"4000"` for `--port 4000`,
 * `--port=4000`, `-p4000`, `runserver 0.0.0.0:4000` or FLASK_RUN_PORT=4000; `""` for a port
 * flag whose value is not a literal (`--port` last). An address gives its port.
 */
export function userPort(
  fw: Framework,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): string | undefined {
  const given = flagValue(fw, args) ?? fw.ownPort?.(args);
  if (given !== undefined) return portOf(given);
  for (const name of fw.portEnv ?? []) {
    const value = env[name];
    if (value !== undefined && value !== "") return portOf(value);
  }
  return undefined;
}

// --- internal ---

function flagValue(fw: Framework, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") return undefined;
    for (const flag of fw.portFlags) {
      if (arg === flag) return args[i + 1] ?? "";
      if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
      if (
        !flag.startsWith("--") &&
        arg.startsWith(flag) &&
        /^(?:.*:)?\d+$/.test(arg.slice(flag.length))
      )
        return arg.slice(flag.length);
    }
  }
  return undefined;
}

/** `4000`, `:4000`, `0.0.0.0:4000`, `[::1]:4000` → `4000`; anything else as it is. */
function portOf(value: string): string {
  const m = /^(?:.*:)?(\d+)$/.exec(value);
  return m?.[1] ?? value;
}

/** The first argument after `word` that is not an option (nor an option's value). */
function positionalAfter(
  args: readonly string[],
  word: string,
  valueOptions: readonly string[],
): string | undefined {
  const at = args.indexOf(word);
  if (at < 0) return undefined;
  for (let i = at + 1; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (valueOptions.includes(arg)) i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}
