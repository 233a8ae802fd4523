// `portctl prune`: the allocations of checkouts that no longer exist (and, with --unused-for,
// of ports not seen listening for that long). Lists them; releases them only with --yes.
import { resolve } from "node:path";
import type { PruneResult } from "../../core/prune.ts";
import { Client } from "../client.ts";
import type { Io } from "../io.ts";
import { colors, printJson, processText, safe, shellWords } from "../output.ts";
import { table, tableWidth } from "../table.ts";

export interface PruneOptions {
  yes?: boolean;
  /** A duration (`30d`), checked by the flag's converter. */
  unusedFor?: string;
  app?: string;
  /** A folder, relative to the working folder (or -C); it may no longer exist. */
  checkout?: string;
  json?: boolean;
}

export async function prune(opts: PruneOptions, io: Io): Promise<number> {
  const result = await new Client(io.env).prune({
    dry_run: !opts.yes,
    ...(opts.unusedFor ? { unused_for: opts.unusedFor } : {}),
    ...(opts.app ? { app: opts.app } : {}),
    ...(opts.checkout ? { checkout: resolve(io.cwd, opts.checkout) } : {}),
  });
  if (opts.json) printJson(io, result);
  else for (const line of describe(result, opts, io)) io.out(line);
  return 0;
}

// --- internal ---

type Candidate = PruneResult["candidates"][number];
type Kept = PruneResult["kept"][number];
type Row = (Candidate & { kept?: false }) | (Kept & { kept: true });

function again(opts: PruneOptions): string {
  const words = [
    ...(opts.app ? ["--app", opts.app] : []),
    ...(opts.checkout ? ["--checkout", opts.checkout] : []),
    ...(opts.unusedFor ? ["--unused-for", opts.unusedFor] : []),
  ];
  return words.length > 0 ? ` ${safe(shellWords(words))}` : "";
}

/** Why a port is kept, in the CLI's words: the container with its folder under `~`, escaped. */
function keptWhy(k: Kept, io: Io): string {
  const who = processText(k.system, io.env.HOME).replace(/^ by /, "");
  const selected = k.cause === "checkout_gone" ? "checkout gone" : "unused";
  if (!who) return `${selected}, but something listens on port ${safe(k.allocation.port)}`;
  return `${selected}, but ${k.system.container ? "still published by" : "listening:"} ${who}`;
}

function describe(r: PruneResult, opts: PruneOptions, io: Io): string[] {
  const projects = (r.projects ?? []).map(
    ({ project: p, reason }) =>
      `${r.dry_run ? "would free" : "freed"} Compose project name ${safe(p.name)} of ${safe(`${p.app}/${p.instance}`)}: ${safe(reason)}`,
  );
  // A daemon before this field sends none.
  for (const { project: p, reason } of r.kept_projects ?? [])
    projects.push(
      `kept Compose project name ${safe(p.name)} of ${safe(`${p.app}/${p.instance}`)}: ${safe(reason)}`,
    );
  // A daemon of the second release sends no `kept`.
  const kept: Row[] = (r.kept ?? []).map((k) => ({ ...k, kept: true, reason: keptWhy(k, io) }));
  if (r.candidates.length === 0 && kept.length === 0)
    return projects.length ? projects : ["nothing to prune"];
  const c = colors(io);
  if (!r.dry_run) {
    return [
      ...r.candidates.map(
        ({ allocation: a, reason }) =>
          `released port ${safe(a.port)} (id=${safe(a.id)}) of ${safe(`${a.app}/${a.instance}/${a.service}`)}: ${safe(reason)}`,
      ),
      ...kept.map(
        ({ allocation: a, reason }) =>
          `kept port ${safe(a.port)} (id=${safe(a.id)}) of ${safe(`${a.app}/${a.instance}/${a.service}`)}: ${reason}`,
      ),
      ...projects,
    ];
  }
  const n = r.candidates.length;
  const rows: Row[] = [...r.candidates, ...kept];
  return [
    ...projects,
    ...table(
      rows,
      [
        {
          header: "STATE",
          value: (x: Row) => (x.kept ? "KEPT" : x.cause === "checkout_gone" ? "STALE" : "UNUSED"),
          style: (t) => (t === "KEPT" ? c.dim(t) : c.yellow(t)),
          fixed: true,
        },
        { header: "ID", value: (x) => String(x.allocation.id), fixed: true },
        { header: "APP", value: (x) => x.allocation.app },
        { header: "INSTANCE", value: (x) => x.allocation.instance },
        { header: "SERVICE", value: (x) => x.allocation.service },
        { header: "PORT", value: (x) => String(x.allocation.port), fixed: true },
        { header: "WHY", value: (x) => x.reason },
      ],
      c,
      tableWidth(io),
    ),
    n === 0
      ? `nothing would be released: ${kept.length === 1 ? "the port is" : "every port is"} still in use`
      : `${n} allocation${n > 1 ? "s" : ""} would be released; run portctl prune --yes${again(opts)} to release ${n > 1 ? "them" : "it"}`,
  ];
}
