// Dev servers that ignore `PORT`, and the flag each needs to listen on the registered port.
// `portctl run` adds a row's flags when argv[0] is one of its executables, the subcommand starts
// a server, and the user has not chosen a port already. One row per tool; add tools here only.

export interface Framework {
  /** The tool's name, as `portctl run` reports it. */
  name: string;
  /** Executable names (the last path segment of argv[0], or what `npx`/a script runs). */
  bins: readonly string[];
  /**
   * Whether these arguments start a server. Called with the first argument that is not an
   * option (`undefined` when there is none): `vite build` builds, `vite` and `vite dev` serve.
   */
  serves: (subcommand: string | undefined) => boolean;
  /** What to add for `port`. */
  flags: (port: number) => string[];
  /** Options by which the user has already picked a port (`--port 4000`, `--port=4000`, `-p4000`). */
  portFlags: readonly string[];
}

export const FRAMEWORKS: readonly Framework[] = [
  {
    // Vite reads no PORT; without --strictPort it quietly moves to the next port when the
    // registered one is taken, and the registry would point at the wrong server.
    name: "vite",
    bins: ["vite"],
    serves: (sub) => sub === undefined || !["build", "optimize"].includes(sub),
    flags: (port) => ["--port", String(port), "--strictPort"],
    portFlags: ["--port"],
  },
  {
    // Astro's dev server and preview take --port; Astro has no strict mode, so the port is
    // checked before the start instead.
    name: "astro",
    bins: ["astro"],
    serves: (sub) => sub === "dev" || sub === "preview",
    flags: (port) => ["--port", String(port)],
    portFlags: ["--port"],
  },
  {
    // React Router's dev server is Vite underneath and takes Vite's two flags.
    name: "react-router",
    bins: ["react-router"],
    serves: (sub) => sub === "dev",
    flags: (port) => ["--port", String(port), "--strictPort"],
    portFlags: ["--port"],
  },
  {
    // Angular CLI: `ng serve` (aliases `ng s`, `ng dev`) defaults to 4200 whatever PORT says.
    name: "angular",
    bins: ["ng"],
    serves: (sub) => sub === "serve" || sub === "s" || sub === "dev",
    flags: (port) => ["--port", String(port)],
    portFlags: ["--port"],
  },
  {
    // Expo's Metro bundler: `expo start`, which is also what a bare `expo` runs.
    name: "expo",
    bins: ["expo"],
    serves: (sub) => sub === undefined || sub === "start",
    flags: (port) => ["--port", String(port)],
    portFlags: ["--port", "-p"],
  },
  {
    // Storybook 7+: `storybook dev -p N` (it would pick 6006, or ask, otherwise).
    name: "storybook",
    bins: ["storybook", "sb"],
    serves: (sub) => sub === "dev",
    flags: (port) => ["-p", String(port)],
    portFlags: ["--port", "-p"],
  },
  {
    // webpack-cli's dev server command (`webpack serve`, aliases `server` and `s`).
    name: "webpack",
    bins: ["webpack", "webpack-cli"],
    serves: (sub) => sub === "serve" || sub === "server" || sub === "s",
    flags: (port) => ["--port", String(port)],
    portFlags: ["--port"],
  },
  {
    // The standalone webpack-dev-server executable: serving is all it does.
    name: "webpack-dev-server",
    bins: ["webpack-dev-server"],
    serves: () => true,
    flags: (port) => ["--port", String(port)],
    portFlags: ["--port"],
  },
];

/** The row whose executables include `bin` (a bare name, no folder). */
export function frameworkFor(bin: string): Framework | undefined {
  return FRAMEWORKS.find((f) => f.bins.includes(bin));
}

/**
 * The port the user already gave in `args`, if any: `"4000"` for `--port 4000`, `--port=4000`
 * or `-p4000`; `""` for a port flag whose value is not a literal (`--port` last).
 */
export function userPort(fw: Framework, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") return undefined;
    for (const flag of fw.portFlags) {
      if (arg === flag) return args[i + 1] ?? "";
      if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
      if (!flag.startsWith("--") && arg.startsWith(flag) && /^\d+$/.test(arg.slice(flag.length)))
        return arg.slice(flag.length);
    }
  }
  return undefined;
}
