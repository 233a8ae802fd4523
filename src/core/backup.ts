// `import`: allocation objects as the API returns them (what `export` wrote), applied all or
// nothing in one transaction. A row identical to one already registered is skipped, so an
// import can be repeated; any conflict refuses the whole file, naming every holder.
import { z } from "zod";
import { envKey } from "./envkey.ts";
import { PortError } from "./errors.ts";
import { allocationSchema, type ImportConflict, type ImportRow, type Row } from "./model.ts";
import { freeName, parseChosenName } from "./names.ts";
import { ownerKey } from "./queries.ts";

export { importConflictSchema, importRequestSchema } from "./model.ts";

import type { Store } from "./store.ts";

export const importResultSchema = z.object({
  imported: z.array(allocationSchema),
  unchanged: z.number().int().describe("rows already registered exactly so"),
});
export type ImportResult = z.infer<typeof importResultSchema>;

/** Whose the imported rows become, and how other rows are named to this caller (#28). */
export interface ImportScope {
  /** owner_uid of the rows imported (the caller's; null for the daemon's own user). */
  owner: number | null;
  /** Whether a registered row is the caller's own (only then can a row be "already there"). */
  mine: (row: Row) => boolean;
  /** `shop/main/web (id=3)`, or `another user (alice)`. */
  describe: (row: Row) => string;
  /** The label the caller's derived names carry (owners.label; none for the daemon's user). */
  label?: string | undefined;
}

const DAEMON_SCOPE: ImportScope = { owner: null, mine: () => true, describe: (a) => name(a) };

export function importAllocations(
  store: Store,
  rows: ImportRow[],
  pid?: number | null,
  scope: ImportScope = DAEMON_SCOPE,
): { imported: Row[]; unchanged: number } {
  return store.write(() => {
    const conflicts: ImportConflict[] = [];
    const fresh: ImportRow[] = [];
    const seen = new Map<string, ImportRow>();
    for (const row of rows) {
      const c = conflictOf(store, row, seen, scope);
      if (c === "identical") continue;
      if (c) conflicts.push(c);
      else fresh.push(row);
    }
    if (conflicts.length) {
      throw new PortError(
        "import_conflict",
        `nothing imported: ${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""} with the registry`,
        undefined,
        { conflicts },
      );
    }
    const inserted = fresh.map((row) =>
      store.insert(
        {
          ...row,
          id: row.id && !store.byId(row.id) ? row.id : null,
          name: nameOf(store, row, scope.label),
          http: typeof row.url === "string",
          owner_uid: scope.owner,
          block_id: null,
        },
        {
          pid,
          reason: "imported",
        },
        "imported",
      ),
    );
    return {
      imported: rejoinBlocks(store, fresh, inserted),
      unchanged: rows.length - fresh.length,
    };
  });
}

// --- internal ---

/**
 * The file's blocks again, under ids of this registry: each block's rows (by the file's
 * block_id) get the new id of its first port's row, so an imported block never joins another.
 */
function rejoinBlocks(store: Store, fresh: ImportRow[], inserted: Row[]): Row[] {
  const firstOf = new Map<number, Row>();
  fresh.forEach((row, i) => {
    const b = row.block_id;
    const a = inserted[i] as Row;
    if (b === null || b === undefined) return;
    const first = firstOf.get(b);
    if (!first || a.port < first.port) firstOf.set(b, a);
  });
  if (firstOf.size === 0) return inserted;
  return fresh.map((row, i) => {
    const a = inserted[i] as Row;
    const b = row.block_id;
    const first = b === null || b === undefined ? undefined : firstOf.get(b);
    return first ? store.setBlock(a.id, first.id) : a;
  });
}

function conflictOf(
  store: Store,
  row: ImportRow,
  seen: Map<string, ImportRow>,
  scope: ImportScope,
): ImportConflict | "identical" | null {
  const key = `${row.app}\u0000${row.instance}\u0000${row.service}`;
  // Names are the caller's own (#28): only their own row of this app/instance/service counts.
  const owner = ownerKey(scope.owner);
  const byService = store.byService(owner, row.app, row.instance, row.service);
  const byPort = store.byPort(row.port);
  if (byService && byService.port === row.port && scope.mine(byService)) return "identical";
  const holder = byPort ?? byService;
  if (holder) {
    const reason = byPort
      ? `port ${row.port} is allocated to ${scope.describe(byPort)}`
      : `${scope.describe(holder)} already has port ${holder.port}`;
    return { allocation: row, holder, reason };
  }
  // The rule allocate applies: one environment variable per service of an app and instance.
  const variable = envKey(row.service);
  const keyTwin = store.envKeyTwin(owner, row.app, row.instance, row.service);
  if (keyTwin) {
    const reason = `${row.service} would share ${variable} with ${scope.describe(keyTwin)}`;
    return { allocation: row, holder: keyTwin, reason };
  }
  // Two rows of the file itself that the database (or that rule) would refuse together.
  const envName = `env:${row.app}\u0000${row.instance}\u0000${variable}`;
  const twin = seen.get(key) ?? seen.get(`port:${row.port}`) ?? seen.get(envName);
  if (twin) {
    const what =
      twin.port === row.port
        ? `port ${row.port}`
        : twin.service === row.service
          ? `${key.replaceAll("\u0000", "/")}`
          : `${twin.service} and ${row.service}, which both make ${variable},`;
    return { allocation: row, reason: `the file names ${what} twice` };
  }
  seen.set(key, row);
  seen.set(`port:${row.port}`, row);
  seen.set(envName, row);
  return null;
}

/** The file's name when it is one and free; else the one an allocation would get. */
function nameOf(store: Store, row: ImportRow, label: string | undefined): string {
  const taken = (name: string) => store.byName(name) !== null;
  if (row.name !== undefined) {
    try {
      const name = parseChosenName(row.name);
      if (!taken(name)) return name;
    } catch {
      // Not a valid name (a hand-edited file): the derived one, as for a row without one.
    }
  }
  return freeName(row, taken, label);
}

function name(a: Row): string {
  return `${a.app}/${a.instance}/${a.service} (id=${a.id})`;
}
