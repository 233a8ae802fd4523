// Which allocations `prune` frees: those whose checkout folder is gone and, on request, those
// not seen listening for a while. Never one without a recorded checkout, and never one whose
// port is listening right now, whatever its record says: those are kept, with who listens
// (a container still publishing a deleted checkout's port keeps it until it is removed).
import { z } from "zod";
import type { CheckoutExists } from "./checkout.ts";
import { durationSchema } from "./events.ts";
import { checkoutSchema, documentedName } from "./fields.ts";
import {
  type Allocation,
  allocationSchema,
  type ProjectRow,
  projectSchema,
  type Row,
  rfc3339,
  type SystemUse,
  systemUseSchema,
  unknownKeys,
} from "./model.ts";
import type { Probe } from "./probe.ts";
import { listProjects, removeProjects } from "./projects.ts";
import type { Store } from "./store.ts";

export const pruneRequestSchema = z.strictObject(
  {
    dry_run: z.boolean({ error: "must be true or false" }).optional(),
    unused_for: durationSchema
      .describe("also select allocations not seen listening for this long (30m, 3h, 1d, 2w)")
      .optional(),
    app: documentedName.describe("only this application's allocations").optional(),
    checkout: checkoutSchema().describe("only the allocations of this checkout").optional(),
  },
  { error: unknownKeys },
);
export type PruneRequest = z.input<typeof pruneRequestSchema>;

const pruneCandidateSchema = z.object({
  allocation: allocationSchema,
  cause: z.enum(["checkout_gone", "unused"]).describe("why it was selected"),
  reason: z.string().describe("the same, for a person"),
});
/** A candidate as the store holds its row (the server shows it to the caller, #28). */
type Candidate = Omit<z.infer<typeof pruneCandidateSchema>, "allocation"> & { allocation: Row };
const keptSchema = pruneCandidateSchema.extend({
  system: systemUseSchema.describe("who listens on the port (a container, where the engine says)"),
});
export type Kept = Omit<z.infer<typeof keptSchema>, "allocation"> & { allocation: Row };
export const pruneResultSchema = z.object({
  dry_run: z.boolean(),
  candidates: z.array(pruneCandidateSchema).describe("what was (dry_run: would be) released"),
  projects: z
    .array(z.object({ project: projectSchema, reason: z.string() }))
    .describe("the Compose project names of checkouts that are gone: (dry_run: would be) freed"),
  kept: z
    .array(keptSchema)
    .describe("selected, but kept: something listens on the port now (reason says who)"),
  kept_projects: z
    .array(z.object({ project: projectSchema, reason: z.string() }))
    .describe(
      "Compose project names of gone checkouts that are kept: the engine still has containers of that project (another checkout given the name would take them over, volumes and all)",
    ),
});
export type PruneResult = z.infer<typeof pruneResultSchema>;
/** What prune returns: rows, before the server shows them to the caller. */
export interface PruneRows {
  dry_run: boolean;
  candidates: Candidate[];
  projects: { project: ProjectRow; reason: string }[];
  kept: Kept[];
  kept_projects: { project: ProjectRow; reason: string }[];
}

export interface PruneDeps {
  store: Store;
  probe: Probe;
  checkoutExists: CheckoutExists;
  /** The rows the caller may prune (their own; all for an admin). Default: all. */
  mine?: (row: Row) => boolean;
  /** Appended to each event's reason: whose it was, when not the caller's (owners.ts). */
  whose?: (row: Row) => string;
  /**
   * Whether Compose project names are pruned too (default: yes): only the registry's admins
   * prune another user's (#28), so a user's prune leaves names alone.
   */
  projects?: boolean;
  /**
   * How many containers (running or stopped) the container engine shows of each Compose
   * project name, asked before the prune (goneProjectNames): a gone checkout's name is kept
   * while its containers remain. Unknown (no engine): freed.
   */
  projectContainers?: ReadonlyMap<string, number>;
  /** The caller's owner key (queries.ts): `app` names the caller's own app (#28). */
  owner?: number;
}

/**
 * Selects, and unless `dry_run` releases (each with a `pruned` event), in one transaction. A
 * dry run only reads, so it takes no write lock (the dashboard asks for one every second).
 */
export function prune(
  deps: PruneDeps,
  opts: { dry_run?: boolean; unused_for?: number; app?: string; checkout?: string },
  pid?: number | null,
): PruneRows {
  const { store } = deps;
  const rows = () => {
    const all = store.list(
      opts.app === undefined
        ? {}
        : { app: opts.app, ...(deps.owner === undefined ? {} : { owner: deps.owner }) },
    );
    const some =
      opts.checkout === undefined ? all : all.filter((a) => a.checkout === opts.checkout);
    return deps.mine ? some.filter(deps.mine) : some;
  };
  if (opts.dry_run) {
    return {
      dry_run: true,
      ...select(deps, rows(), opts.unused_for),
      ...goneProjects(deps, opts),
    };
  }
  return store.write(() => {
    const { candidates, kept } = select(deps, rows(), opts.unused_for);
    const reasons = new Map(candidates.map((c) => [c.allocation.id, c.reason]));
    store.remove(
      candidates.map((c) => c.allocation),
      "pruned",
      (a) => ({ pid, reason: `${reasons.get(a.id) ?? "pruned"}${deps.whose?.(a) ?? ""}` }),
    );
    const { projects, kept_projects } = goneProjects(deps, opts);
    removeProjects(
      store,
      projects.map((p) => p.project),
      "project_pruned",
      (p) => ({ pid, reason: `the checkout at ${p.checkout} no longer exists` }),
    );
    return { dry_run: false, candidates, projects, kept, kept_projects };
  });
}

/** A kept row's reason with its listener named: `still published by container shop-db-1`. */
export function keptReason(k: Omit<Kept, "reason">): string {
  const c = k.system.container;
  const who = c
    ? `container ${c.name}${c.project ? ` (Compose project ${c.project})` : ""}`
    : k.system.process
      ? `${k.system.process}${k.system.pid ? ` (pid ${k.system.pid})` : ""}`
      : "a process";
  return `${c ? "still published by" : "still listening:"} ${who}`;
}

// --- internal ---

/** The Compose project names a prune with these deps and options would look at. */
export function goneProjectNames(
  deps: Pick<PruneDeps, "store" | "checkoutExists" | "projects">,
  only: { app?: string; checkout?: string },
): string[] {
  return goneProjectRows(deps, only).map((p) => p.name);
}

function goneProjectRows(
  deps: Pick<PruneDeps, "store" | "checkoutExists" | "projects">,
  only: { app?: string; checkout?: string },
): ProjectRow[] {
  if (deps.projects === false) return [];
  return listProjects(deps.store)
    .filter((p) => only.app === undefined || p.app === only.app)
    .filter((p) => only.checkout === undefined || p.checkout === only.checkout)
    .filter((p) => !deps.checkoutExists(p.checkout));
}

/**
 * What removes a Compose project's containers and networks when its files are gone (Compose's
 * `down` needs them): by the label Compose puts on both. Its volumes stay (they hold data).
 */
function removal(name: string): string {
  const label = `label=com.docker.compose.project=${name}`;
  return `docker rm -f $(docker ps -aq --filter ${label}) && docker network prune -f --filter ${label}`;
}

/** Gone checkouts' names: freed, or kept while the engine shows containers of the project. */
function goneProjects(
  deps: PruneDeps,
  only: { app?: string; checkout?: string },
): Pick<PruneRows, "projects" | "kept_projects"> {
  const out: Pick<PruneRows, "projects" | "kept_projects"> = { projects: [], kept_projects: [] };
  for (const project of goneProjectRows(deps, only)) {
    const gone = `the checkout at ${project.checkout} no longer exists`;
    const n = deps.projectContainers?.get(project.name) ?? 0;
    if (n === 0) out.projects.push({ project, reason: gone });
    else
      out.kept_projects.push({
        project,
        reason: `${gone}, but ${n} container${n === 1 ? "" : "s"} of Compose project ${project.name} still exist${n === 1 ? "s" : ""} (its folder is gone, so Compose cannot take it down; remove them and its network with: ${removal(project.name)})`,
      });
  }
  return out;
}

function select(
  deps: PruneDeps,
  rows: Row[],
  unusedForMs: number | undefined,
): { candidates: Candidate[]; kept: Kept[] } {
  const cutoff =
    unusedForMs === undefined
      ? undefined
      : rfc3339(new Date(deps.store.now().getTime() - unusedForMs));
  const out: Candidate[] = [];
  const kept: Kept[] = [];
  let listening: ((port: number) => boolean) | undefined;
  for (const a of rows) {
    const c = a.checkout === null ? null : cause(deps, a, a.checkout, cutoff);
    // The machine last, looked at once and only for candidates: a listener means it is in use.
    if (!c) continue;
    listening ??= deps.probe.listening();
    if (!listening(a.port)) out.push({ allocation: a, ...c });
    else {
      const system: SystemUse = deps.probe.who(a.port);
      kept.push({
        allocation: a,
        ...c,
        system,
        reason: keptReason({ allocation: a, ...c, system }),
      });
    }
  }
  return { candidates: wholeBlocks(rows, out), kept };
}

/** A block is released together: only when every one of its ports is a candidate. */
function wholeBlocks(rows: Allocation[], out: Candidate[]): Candidate[] {
  const picked = new Set(out.map((c) => c.allocation.id));
  const keep = new Set<number>();
  for (const a of rows) if (a.block_id !== null && !picked.has(a.id)) keep.add(a.block_id);
  return keep.size ? out.filter((c) => !keep.has(c.allocation.block_id ?? 0)) : out;
}

function cause(
  deps: PruneDeps,
  a: Allocation,
  checkout: string,
  cutoff: string | undefined,
): Omit<Candidate, "allocation"> | null {
  if (!deps.checkoutExists(checkout)) {
    return { cause: "checkout_gone", reason: `the checkout at ${checkout} no longer exists` };
  }
  if (cutoff === undefined || (a.last_seen ?? a.created_at) >= cutoff) return null;
  return {
    cause: "unused",
    reason: a.last_seen
      ? `not seen listening since ${a.last_seen}`
      : `never seen listening since it was allocated at ${a.created_at}`,
  };
}
