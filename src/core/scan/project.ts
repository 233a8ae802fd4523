// Loading a Compose project as `docker compose` does: which files (COMPOSE_FILE, else
// compose.yaml + compose.override.yaml and their docker-compose.* spellings), each file's
// documents merged in order, `extends` and `include` resolved, interpolation from the
// environment over the project's `.env`. Reads files only; never runs Compose.
import { dirname, join, resolve } from "node:path";
import { fileReason } from "../errors.ts";
import { envVars } from "./envfiles.ts";
import { composeFiles, dotenvOf, readProjectFile } from "./files.ts";
import { interpolate, type Vars } from "./interpolate.ts";
import type { ComposeProject, ComposeService } from "./model.ts";
import { documentServices, mergeServices, type Resolver, type Services } from "./services.ts";
import type { Problem } from "./types.ts";
import { isObject, plain, readYaml } from "./yaml.ts";

export { COMPOSE_FILES, composeFiles, type FileAccess, OVERRIDE_FILES } from "./files.ts";
export type { ComposeProject, ComposeService, PublishedPort } from "./model.ts";

export interface LoadOptions {
  /** The process environment: it wins over `.env`, as in Compose. */
  env: Vars;
  /** Where `.env` is read from; the first file's folder by default. */
  dir?: string;
  /** How messages name a file (relative to the scanned folder, say); the path by default. */
  label?: (path: string) => string;
  /** Reads a file (tests give an in-memory one). */
  read?: (path: string) => string;
  /** `--env-file`s (absolute) read instead of `dir/.env`. */
  envFiles?: string[];
}

/** The project `docker compose` would load in `dir`, or null when there is none. */
export function composeProjectAt(dir: string, opts: LoadOptions): ComposeProject | null {
  const files = composeFiles(dir, opts.env, {
    ...(opts.read ? { read: opts.read } : {}),
    ...(opts.envFiles ? { envFiles: opts.envFiles } : {}),
  });
  return files ? loadComposeProject(files, { ...opts, dir }) : null;
}

/** One project from these files, merged in this order (`docker compose -f a -f b`). */
export function loadComposeProject(files: string[], opts: LoadOptions): ComposeProject {
  const dir = opts.dir ?? dirname(files[0] ?? ".");
  const read = opts.read ?? readProjectFile;
  const label = opts.label ?? ((p: string) => p);
  const problems: Problem[] = [];
  const dotenv = dotenvOf(dir, read, opts.env, opts.envFiles);
  const vars = { ...dotenv, ...opts.env };
  const loader = new Loader(read, label, problems);
  const services = loader.project(files, vars, []);
  return {
    dir,
    files,
    read: [...loader.read],
    services: [...services.values()].map(
      (s): ComposeService => ({
        name: s.name,
        ports: s.ports?.ports ?? [],
        profiles: s.profiles ?? [],
      }),
    ),
    problems: unique(problems),
    ...(loader.name ? { name: loader.name } : {}),
    dotenv: Object.fromEntries(
      Object.entries(dotenv).filter((e): e is [string, string] => e[1] !== undefined),
    ),
  };
}

// --- internal ---

interface Include {
  paths: string[];
  dir: string;
  envFiles: string[];
  /** Whether env_file was written (a missing default `.env` is no problem). */
  explicit: boolean;
  from: string;
}

class Loader {
  readonly read = new Set<string>();
  /** The top-level `name:` of the project's own files. */
  name: string | undefined;
  constructor(
    private readonly readFile: (path: string) => string,
    private readonly label: (path: string) => string,
    private readonly problems: Problem[],
  ) {}

  /** Files merged in order, then their `include`s added. `chain`: the includes above us. */
  project(files: string[], vars: Vars, chain: string[]): Services {
    let services: Services = new Map();
    const includes: Include[] = [];
    const cache = new Map<string, Services | "loading">();
    const resolver: Resolver = {
      vars,
      problems: this.problems,
      label: this.label,
      servicesOf: (path, from) => this.extendsFile(path, from, resolver, cache),
    };
    for (const file of files) {
      for (const doc of this.documents(file) ?? []) {
        const name = plain(doc.name);
        if (chain.length === 0 && typeof name === "string") this.name = expand(name, vars);
        services = mergeServices(services, documentServices(doc.services, file, resolver));
        includes.push(...includesOf(doc.include, file, vars));
      }
    }
    for (const inc of includes) services = this.include(inc, services, vars, chain);
    return services;
  }

  /** The file's documents; null when it cannot be read or parsed (an error is recorded). */
  private documents(file: string): Record<string, unknown>[] | null {
    this.read.add(file);
    let text: string;
    try {
      text = this.readFile(file);
    } catch (err) {
      this.error(this.label(file), fileReason(err));
      return null;
    }
    const parsed = readYaml(text, file, this.label(file));
    this.problems.push(...parsed.problems);
    return parsed.problems.length ? null : parsed.documents.filter(isObject);
  }

  private extendsFile(
    path: string,
    from: string,
    r: Resolver,
    cache: Map<string, Services | "loading">,
  ) {
    const cached = cache.get(path);
    if (cached === "loading") {
      this.error(this.label(from), `extends: ${this.label(path)} extends back into itself`);
      return undefined;
    }
    if (cached) return cached;
    cache.set(path, "loading");
    let services: Services = new Map();
    const docs = this.documents(path);
    if (!docs) {
      cache.delete(path);
      return undefined; // the error is said; a "no service" warning would only repeat it
    }
    for (const doc of docs)
      services = mergeServices(services, documentServices(doc.services, path, r));
    cache.set(path, services);
    return services;
  }

  private include(inc: Include, services: Services, parentVars: Vars, chain: string[]): Services {
    const first = inc.paths[0];
    if (!first) return services;
    if (chain.includes(first) || inc.paths.includes(inc.from)) {
      this.error(this.label(inc.from), `include: ${this.label(first)} includes itself`);
      return services;
    }
    const dotenv: Vars = {};
    for (const envFile of inc.envFiles) {
      try {
        Object.assign(dotenv, envVars(this.readFile(envFile), { ...parentVars, ...dotenv }));
      } catch (err) {
        if (inc.explicit)
          this.error(
            this.label(inc.from),
            `include: env_file ${this.label(envFile)}: ${fileReason(err)}`,
          );
      }
    }
    // The including project's environment wins over the included project's .env (spec).
    const included = this.project(inc.paths, { ...dotenv, ...parentVars }, [...chain, inc.from]);
    const out = new Map(services);
    for (const [name, s] of included) {
      if (out.has(name)) {
        this.problems.push({
          source: this.label(inc.from),
          message: `include: service ${name} of ${this.label(first)} is also defined here; Compose refuses the project`,
          severity: "error",
        });
      } else out.set(name, s);
    }
    return out;
  }

  private error(source: string, message: string): void {
    this.problems.push({ source, message, severity: "error" });
  }
}

/** `include:` entries of one document, paths resolved from that file's folder. */
function includesOf(value: unknown, from: string, vars: Vars): Include[] {
  if (!Array.isArray(value)) return [];
  const base = dirname(from);
  const strings = (v: unknown): string[] =>
    (Array.isArray(v) ? v : [v])
      .filter((s): s is string => typeof s === "string")
      .map((s) => expand(s, vars));
  return value.map((item): Include => {
    const spec = plain(item);
    const long = isObject(spec) ? spec : { path: spec };
    const paths = strings(long.path).map((p) => resolve(base, p));
    const projectDir =
      typeof long.project_directory === "string"
        ? resolve(base, expand(long.project_directory, vars))
        : dirname(paths[0] ?? from);
    const envFiles = strings(long.env_file).map((p) => resolve(base, p));
    return {
      paths,
      dir: projectDir,
      envFiles: envFiles.length ? envFiles : [join(projectDir, ".env")],
      explicit: envFiles.length > 0,
      from,
    };
  });
}

function expand(text: string, vars: Vars): string {
  return interpolate(text, vars).value;
}

function unique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.severity}|${p.source}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
