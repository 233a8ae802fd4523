// `portctl prune`: the allocations of checkouts that no longer exist (and, with --unused-for,
// of ports not seen listening for that long). Lists them; releases them only with --yes.
import type { PruneResult } from "../../core/prune.ts";
import { Client } from "../client.ts";
import type { Io } from "../io.ts";
import { colors, printJson, safe } from "../output.ts";
import { table, tableWidth } from "../table.ts";

export interface PruneOptions {
  yes?: boolean;
  /** A duration (`30d`), checked by the flag's converter. */
  unusedFor?: string;
  json?: boolean;
}

export async function prune(opts: PruneOptions, io: Io): Promise<number> {
  const result = await new Client(io.env).prune({
    dry_run: !opts.yes,
    ...(opts.unusedFor ? { unused_for: opts.unusedFor } : {}),
  });
  if (opts.json) printJson(io, result);
  else for (const line of describe(result, opts, io)) io.out(line);
  return 0;
}

// --- internal ---

type Candidate = PruneResult["candidates"][number];

function again(opts: PruneOptions): string {
  return opts.unusedFor ? ` --unused-for ${opts.unusedFor}` : "";
}

function describe(r: PruneResult, opts: PruneOptions, io: Io): string[] {
  const projects = (r.projects ?? []).map(
    ({ project: p, reason }) =>
      `${r.dry_run ? "would free" : "freed"} Compose project name ${safe(p.name)} of ${safe(`${p.app}/${p.instance}`)}: ${safe(reason)}`,
  );
  if (r.candidates.length === 0) return projects.length ? projects : ["nothing to prune"];
  const c = colors(io);
  if (!r.dry_run) {
    return [
      ...r.candidates.map(
        ({ allocation: a, reason }) =>
          `released port ${safe(a.port)} (id=${safe(a.id)}) of ${safe(`${a.app}/${a.instance}/${a.service}`)}: ${safe(reason)}`,
      ),
      ...projects,
    ];
  }
  const n = r.candidates.length;
  return [
    ...projects,
    ...table(
      r.candidates,
      [
        {
          header: "STATE",
          value: (x: Candidate) => (x.cause === "checkout_gone" ? "STALE" : "UNUSED"),
          style: (t) => c.yellow(t),
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
    `${n} allocation${n > 1 ? "s" : ""} would be released; run portctl prune --yes${again(opts)} to release ${n > 1 ? "them" : "it"}`,
  ];
}
