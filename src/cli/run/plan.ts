// What `portctl run` executes: the user's argv with `{port}` filled in and, for a dev server that
// ignores PORT, its port flag added: to the tool itself (`vite`), through a runner (`npx vite`),
// or through a package manager's script (`npm run dev` whose script is `vite`).
import { readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PortError } from "../../core/errors.ts";
import { type Framework, frameworkFor, userPort } from "./frameworks.ts";

export interface Plan {
  argv: string[];
  /** The flags (and variables) added, and for which tool. */
  injected?: { tool: string; flags: string[]; env: Record<string, string> };
  /** A known tool told to use another port than the registered one by the user's own flag. */
  ownPort?: { tool: string; port: string };
}

export interface PlanOptions {
  port: number;
  /** false: `--no-inject`, only `{port}` is filled in. */
  inject: boolean;
  cwd: string;
  /** The environment the command gets (a port variable of the user's counts as their choice). */
  env?: Record<string, string | undefined>;
}

export function planCommand(argv: readonly string[], opts: PlanOptions): Plan {
  const [cmd = "", ...args] = argv;
  const filled = [cmd, ...args.map((a) => a.replaceAll("{port}", String(opts.port)))];
  if (!opts.inject) return { argv: filled };
  const target = findTarget(filled, opts.cwd);
  if (!target) return { argv: filled };
  const own = userPort(target.fw, target.toolArgs, opts.env);
  if (own !== undefined) {
    return {
      argv: filled,
      ...(own !== String(opts.port) ? { ownPort: { tool: target.fw.name, port: own } } : {}),
    };
  }
  const flags = target.fw.flags(opts.port);
  const env = target.fw.env?.(opts.port) ?? {};
  // A tool that reads PORT gets nothing more.
  if (flags.length === 0 && Object.keys(env).length === 0) return { argv: filled };
  return {
    argv: flags.length ? target.add(flags) : filled,
    injected: { tool: target.fw.name, flags, env },
  };
}

/**
 * The port the command fixes for itself, before any is registered: `vite --port 5173`, or an
 * npm script that says so. undefined when it fixes none (or not as a number we can read); a
 * number that cannot be a port is refused.
 */
export function fixedPort(
  argv: readonly string[],
  opts: Omit<PlanOptions, "port">,
): { tool: string; port: number } | undefined {
  if (argv.slice(1).some((a) => a.includes("{port}"))) return undefined;
  // No number can be a registered port here: what the plan calls the user's is theirs.
  const own = planCommand(argv, { ...opts, port: -1 }).ownPort;
  if (!own || !/^\d+$/.test(own.port)) return undefined;
  const port = Number(own.port);
  if (port >= 1 && port <= 65535) return { tool: own.tool, port };
  throw new PortError(
    "bad_request",
    `${own.tool} is given port ${own.port} by the command, which is not a port (1-65535)`,
  );
}

// --- internal ---

interface Target {
  fw: Framework;
  /** The arguments the tool itself will see (where a port flag of the user's would be). */
  toolArgs: string[];
  /** The whole argv with `flags` placed where they reach the tool. */
  add(flags: string[]): string[];
}

const SCRIPT_RUNNERS = new Set(["npm", "pnpm", "yarn", "bun"]);

function findTarget(argv: string[], cwd: string): Target | undefined {
  const at = toolIndex(argv, 0);
  if (at !== undefined) return direct(argv, at);
  const manager = basename(argv[0] ?? "");
  return SCRIPT_RUNNERS.has(manager) ? viaScript(manager, argv, cwd) : undefined;
}

/**
 * Where the tool's name sits in `argv` from `start`: there itself (`vite`), or after a runner
 * (`npx vite`, `pnpm exec vite`, `bun x vite`, `npm exec -- vite`). undefined: not a known tool.
 */
function toolIndex(argv: string[], start: number): number | undefined {
  const name = (i: number) => basename(argv[i] ?? "").replace(/(.)@[^/]*$/, "$1");
  const bin = name(start);
  const sub = argv[start + 1];
  // Interpreters first: `python manage.py`, `python -m flask`, `php artisan`.
  if (PYTHON.test(bin)) {
    const at = sub === "-m" ? start + 2 : start + 1;
    return frameworkFor(name(at)) ? at : undefined;
  }
  if (bin === "php" && sub === "artisan") return start + 1;
  if (frameworkFor(bin)) return start;
  let at: number | undefined;
  if (["npx", "bunx", "pnpx"].includes(bin)) at = start + 1;
  else if ((bin === "pnpm" || bin === "yarn") && (sub === "exec" || sub === "dlx")) at = start + 2;
  else if (bin === "bun" && sub === "x") at = start + 2;
  else if (bin === "npm" && (sub === "exec" || sub === "x") && argv[start + 2] === "--")
    at = start + 3;
  else if (sub !== undefined && RUNS.get(bin) === sub) return toolIndex(argv, start + 2);
  if (at === undefined) return undefined;
  while (RUNNER_SWITCHES.has(argv[at] ?? "")) at++;
  return frameworkFor(name(at)) ? at : undefined;
}

const PYTHON = /^python(\d+(\.\d+)*)?$/;
/** Runners whose subcommand runs the rest as a command: `bundle exec jekyll serve`. */
const RUNS = new Map([
  ["bundle", "exec"],
  ["uv", "run"],
  ["poetry", "run"],
  ["pipenv", "run"],
]);

/** Options of npx & co that take no value, so the tool's name follows them. */
const RUNNER_SWITCHES = new Set(["-y", "--yes", "--no-install", "-q", "--quiet", "--bun"]);

/** The tool at `at` gets the flags at the end of its own arguments (before a `--` of theirs). */
function direct(argv: string[], at: number): Target | undefined {
  const fw = frameworkFor(basename(argv[at] ?? "").replace(/(.)@[^/]*$/, "$1"));
  if (!fw) return undefined;
  const rest = argv.slice(at + 1);
  const end = rest.indexOf("--");
  const toolArgs = end < 0 ? rest : rest.slice(0, end);
  if (
    !fw.serves(
      toolArgs.find((a) => !a.startsWith("-")),
      toolArgs,
    )
  )
    return undefined;
  return {
    fw,
    toolArgs,
    add: (flags) => [
      ...argv.slice(0, at + 1),
      ...toolArgs,
      ...flags,
      ...rest.slice(toolArgs.length),
    ],
  };
}

/**
 * `npm run dev`, `npm start`, `pnpm dev`, `yarn run dev`, `bun run dev`: the script comes from
 * the nearest package.json. Arguments after the script name reach the script's last command;
 * npm wants a `--` before them, the others pass them on as they are.
 */
function viaScript(manager: string, argv: string[], cwd: string): Target | undefined {
  const call = scriptCall(argv, cwd);
  if (!call) return undefined;
  const { at, script } = call;
  const extra = argv.slice(at + 1);
  if (script === undefined) {
    // pnpm, yarn and bun also run a package's executables by name: `yarn vite`.
    return manager === "npm" ? undefined : direct(argv, at);
  }
  const words = lastCommand(script);
  const tool = words && toolIndex(words, skipAssignments(words));
  if (!words || tool === undefined) return undefined;
  const fw = frameworkFor(basename(words[tool] ?? "").replace(/(.)@[^/]*$/, "$1"));
  const scriptArgs = words.slice(tool + 1);
  if (
    !fw?.serves(
      scriptArgs.find((a) => !a.startsWith("-")),
      scriptArgs,
    )
  )
    return undefined;
  // npm keeps what comes before a `--` for itself.
  const dashes = extra.indexOf("--");
  const passed = manager !== "npm" ? extra : dashes < 0 ? [] : extra.slice(dashes + 1);
  const needsDashes = manager === "npm" && dashes < 0;
  return {
    fw,
    toolArgs: [...scriptArgs, ...passed],
    add: (flags) => [...argv, ...(needsDashes ? ["--"] : []), ...flags],
  };
}

/**
 * `npm run dev`, `npm start`, `pnpm dev`, `yarn run dev`, `bun run dev`: the script's name, where
 * it sits in argv, and (when the nearest package.json above `cwd` has it) its text and folder.
 */
export function scriptCall(
  argv: readonly string[],
  cwd: string,
): { name: string; at: number; script?: string; dir?: string } | undefined {
  const manager = basename(argv[0] ?? "");
  if (!SCRIPT_RUNNERS.has(manager)) return undefined;
  let at = 1;
  if (manager === "npm") {
    if (argv[1] === "start") at = 1;
    else if (["run", "run-script", "rum", "urn"].includes(argv[1] ?? "")) at = 2;
    else return undefined;
  } else if (argv[1] === "run") at = 2;
  const name = argv[at];
  if (name === undefined || name.startsWith("-")) return undefined;
  const found = scriptOf(cwd, name);
  return { name, at, ...found };
}

/** `scripts[name]` of the nearest package.json above `cwd`, and its folder; {} when none. */
function scriptOf(cwd: string, name: string): { script?: string; dir?: string } {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, "package.json"), "utf8");
    } catch {
      if (dirname(dir) === dir) return {};
      continue;
    }
    try {
      const scripts = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts;
      const script = scripts?.[name];
      return typeof script === "string" ? { script, dir } : {};
    } catch {
      return {}; // a broken package.json: the package manager will say so itself
    }
  }
}

/**
 * The words of a script's last command (`tsc -w & vite` has none we can trust: appended
 * arguments reach whatever the shell runs last). undefined when the shell would do something
 * we cannot follow: a pipe, a background job, a subshell, a substitution or a comment.
 */
export function lastCommand(script: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i] ?? "";
    const two = script.slice(i, i + 2);
    if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? "") + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= "";
    } else if (two === "&&" || two === "||" || ch === ";") {
      words.length = 0;
      word = undefined;
      if (ch !== ";") i++;
    } else if ("|&()`#".includes(ch) || two === "$(") {
      if (ch !== "#" || word === undefined) return undefined;
      word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? "") + ch;
  }
  if (quote) return undefined;
  if (word !== undefined) words.push(word);
  return words.length ? words : undefined;
}

/** Skips `FOO=1 BAR=2`, `cross-env FOO=1` and `env FOO=1` before the command itself. */
function skipAssignments(words: string[]): number {
  let i = 0;
  while (words[i] === "cross-env" || words[i] === "env" || /^[A-Za-z_]\w*=/.test(words[i] ?? ""))
    i++;
  return i;
}
