// `import`: allocation objects as the API returns them (what `export` wrote), applied all or
// nothing in one transaction. A row identical to one already registered is skipped, so an
// import can be repeated; any conflict refuses the whole file, naming every holder.
import { z } from "zod";
import { envKey } from "./envkey.ts";
import { PortError } from "./errors.ts";
import { type Allocation, allocationSchema, type ImportConflict, type ImportRow } from "./model.ts";
import { freeName, parseChosenName } from "./names.ts";

export { importConflictSchema, importRequestSchema } from "./model.ts";

import type { Store } from "./store.ts";

export const importResultSchema = z.object({
  imported: z.array(allocationSchema),
  unchanged: z.number().int().describe("rows already registered exactly so"),
});
export type ImportResult = z.infer<typeof importResultSchema>;

export function importAllocations(
  store: Store,
  rows: ImportRow[],
  pid?: number | null,
): ImportResult {
  return store.write(() => {
    const conflicts: ImportConflict[] = [];
    const fresh: ImportRow[] = [];
    const seen = new Map<string, ImportRow>();
    for (const row of rows) {
      const c = conflictOf(store, row, seen);
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
    const imported = fresh.map((row) =>
      store.insert(
        {
          ...row,
          id: row.id && !store.byId(row.id) ? row.id : null,
          name: nameOf(store, row),
          http: typeof row.url === "string",
        },
        {
          pid,
          reason: "imported",
        },
        "imported",
      ),
    );
    return { imported, unchanged: rows.length - fresh.length };
  });
}

// --- internal ---

function conflictOf(
  store: Store,
  row: ImportRow,
  seen: Map<string, ImportRow>,
): ImportConflict | "identical" | null {
  const key = `${row.app}\u0000${row.instance}\u0000${row.service}`;
  const byService = store.byService(row.app, row.instance, row.service);
  const byPort = store.byPort(row.port);
  if (byService && byService.port === row.port) return "identical";
  const holder = byPort ?? byService;
  if (holder) {
    const reason = byPort
      ? `port ${row.port} is allocated to ${name(byPort)}`
      : `${name(holder)} already has port ${holder.port}`;
    return { allocation: row, holder, reason };
  }
  // The rule allocate applies: one environment variable per service of an app and instance.
  const variable = envKey(row.service);
  const keyTwin = store.envKeyTwin(row.app, row.instance, row.service);
  if (keyTwin) {
    const reason = `${row.service} would share ${variable} with ${name(keyTwin)}`;
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
function nameOf(store: Store, row: ImportRow): string {
  const taken = (name: string) => store.byName(name) !== null;
  if (row.name !== undefined) {
    try {
      const name = parseChosenName(row.name);
      if (!taken(name)) return name;
    } catch {
      // Not a valid name (a hand-edited file): the derived one, as for a row without one.
    }
  }
  return freeName(row, taken);
}

function name(a: Allocation): string {
  return `${a.app}/${a.instance}/${a.service} (id=${a.id})`;
}
