// The README and docs/ as the tests read them: their pages, the shell transcripts in them
// (`command` then `# → output` lines), every portctl command line, and every relative link.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export const ROOT = join(import.meta.dir, "../..");

/** README.md and every docs/*.md, as [path relative to the root, text]. */
export function pages(): [string, string][] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs].map((p) => [p, readFileSync(join(ROOT, p), "utf8")]);
}

export function page(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

/** The text under `heading` up to the next heading of its level or above (outside code blocks). */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`no section ${heading}`);
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  let fenced = false;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("```")) fenced = !fenced;
    const m = /^(#+) /.exec(line);
    if (!fenced && m && (m[1]?.length ?? 0) <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join("\n");
}

/** The bodies of every fenced block in `lang`, in order. */
export function blocks(markdown: string, lang = "bash"): string[] {
  return [...markdown.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map(
    (m) => m[1] ?? "",
  );
}

export interface Step {
  /** The command line as shown (comments dropped). */
  command: string;
  /** The `# → …` lines after it. */
  expected: string[];
}

/** Each command line of a block with the `# → …` lines that follow it; other comments skipped. */
export function transcript(block: string): Step[] {
  const steps: Step[] = [];
  for (const raw of block.split("\n")) {
    const line = raw.trimEnd();
    if (line.startsWith("# → ")) steps[steps.length - 1]?.expected.push(line.slice(4));
    else if (line.trim() && !line.startsWith("#"))
      steps.push({ command: line.replace(/\s+#\s.*$/, "").trim(), expected: [] });
  }
  return steps;
}

/** Every `portctl …` command in bash blocks (see shellCommands). */
export function commandLines(markdown: string): string[][] {
  return blocks(markdown).flatMap((block) => shellCommands(block));
}

/**
 * The arguments of every `portctl …` in shell text: a line, after `&&`/`||`, after `VAR=value`
 * assignments, and inside `$( … )` or `<( … )`. Comments and redirections are not arguments.
 */
export function shellCommands(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/(^|\s+)#.*$/, "");
    for (const part of line.split(/\s*(?:&&|\|\|)\s*/)) {
      const command = part.replace(/^(?:[A-Z_]+=\S*\s+)+/, "").replace(/\s+[>|].*$/, "");
      const direct = /^(?:\.\/bin\/)?portctl (.*)$/.exec(command)?.[1];
      if (direct !== undefined) out.push(direct.trim().split(/\s+/));
      else if (command === "portctl") out.push([]);
    }
    for (const m of line.matchAll(/[$<]\((?:\.\/bin\/)?portctl ([^)]*)\)/g))
      out.push((m[1] ?? "").trim().split(/\s+/));
  }
  return out;
}

export interface Link {
  /** The page it is written in. */
  from: string;
  target: string;
}

/** Every link and image of a page that is not a URL with a scheme (nor in a code block). */
export function relativeLinks(from: string, markdown: string): Link[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  const out: Link[] = [];
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
    const target = m[1] ?? "";
    if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) out.push({ from, target });
  }
  return out;
}

/** Why a relative link leads nowhere (missing file or heading), or undefined when it resolves. */
export function brokenLink(link: Link): string | undefined {
  const [path = "", anchor] = link.target.split("#");
  const file = path ? resolve(ROOT, dirname(link.from), path) : join(ROOT, link.from);
  if (!existsSync(file)) return `${relative(ROOT, file)} does not exist`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith(".md")) return `#${anchor} in a file that is not Markdown`;
  return anchors(readFileSync(file, "utf8")).has(anchor)
    ? undefined
    : `${relative(ROOT, file)} has no heading #${anchor}`;
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces → `-`. */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const prose = markdown.replace(/```[\s\S]*?```/g, "");
  for (const m of prose.matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = (m[1] ?? "")
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    let unique = slug;
    for (let n = 1; out.has(unique); n++) unique = `${slug}-${n}`;
    out.add(unique);
  }
  return out;
}

/** Pids and local times differ per run; trailing spaces do not matter. */
export function normalise(text: string): string[] {
  return text.split("\n").map((l) =>
    l
      .replace(/pid \d+/g, "pid N")
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "TIME")
      .trimEnd(),
  );
}

/**
 * The numbers a page shows ↔ the ports one run really got: a port the page claims (`--port
 * 8080`) is swapped for one this machine lets us bind now, a port the page shows being handed
 * out is learnt from what the run printed, and output is mapped back before it is compared.
 */
export class PortMap {
  readonly #real = new Map<string, string>();

  /** argv with each `--port N` the page claims replaced by its stand-in. */
  claim(argv: string[]): string[] {
    return argv.map((arg, i) => {
      if (argv[i - 1] !== "--port" || !/^\d+$/.test(arg)) return arg;
      if (!this.#real.has(arg)) this.#real.set(arg, String(this.#standIn(Number(arg))));
      return this.#real.get(arg) ?? arg;
    });
  }

  /** The page writes `shown` where this run has `real` (the daemon's address, say). */
  pin(real: string, shown: string): void {
    this.#real.set(shown, real);
  }

  /** Pairs the ports of `shown` and `got` at the same places of `pattern`'s matches. */
  learn(pattern: RegExp, shown: string, got: string): void {
    const a = [...shown.matchAll(pattern)].map((m) => m[1] ?? "");
    const b = [...got.matchAll(pattern)].map((m) => m[1] ?? "");
    a.forEach((port, i) => {
      const real = b[i];
      if (real && !this.#real.has(port)) this.#real.set(port, real);
    });
  }

  /** The page's port for `real`, if the page showed one. */
  shown(real: string): string | undefined {
    for (const [page, r] of this.#real) if (r === real) return page;
    return undefined;
  }

  /** Output with every real port written as the page shows it (times already normalised). */
  toShown(lines: string[]): string[] {
    return lines.map((l) => l.replace(/\b\d{2,5}\b/g, (n) => this.shown(n) ?? n));
  }

  /** The first port from `port` up that binds now (as many digits: tables keep their widths). */
  #standIn(port: number): number {
    const used = new Set(this.#real.values());
    for (let p = port; p < port + 1000; p++) {
      if (used.has(String(p))) continue;
      try {
        Bun.listen({ hostname: "0.0.0.0", port: p, socket: { data() {} } }).stop(true);
        return p;
      } catch {
        // taken; try the next one
      }
    }
    throw new Error(`no bindable port in ${port}-${port + 999}`);
  }
}
