// Compose project names as registry resources. Compose names a stack after its folder, so two
// checkouts with one folder name (two clones, worktrees of two repositories laid out one folder
// per branch) would share containers and volumes: a name is held by one checkout, like a port.
// The first checkout keeps the name Compose picks itself; a later one gets a stable one of its
// own. UNIQUE(name) in the schema has the last word; every change writes its event.
import { basename, dirname } from "node:path";
import type { CheckoutExists } from "./checkout.ts";
import { PortError } from "./errors.ts";
import { type EventContext, recordEvent } from "./events.ts";
import { type ProjectQuery, type ProjectRequest, type ProjectRow, rfc3339 } from "./model.ts";
import { OWNER_KEY } from "./queries.ts";
import type { Store } from "./store.ts";

export interface ClaimResult {
  project: ProjectRow;
  created: boolean;
  /** Set when the name moved to the caller's checkout: the checkout that had it. */
  takenOverFrom?: string;
}

/**
 * Compose's own normalisation of a folder name into a project name (the specification's rule:
 * lower case, characters other than letters, digits, `-` and `_` dropped, leading `-`/`_` too).
 */
export function normalizeProjectName(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[-_]+/, "")
    .slice(0, 128);
}

/**
 * The caller's name for a stack, in one write transaction: the one this checkout holds for
 * `req.name` already; else `req.name` when nobody else may have it; else (a natural name
 * only) the first free alternative (`shop-review`). An explicit name held by another existing
 * checkout is refused (`project_taken`) unless `force`.
 */
export function claimProject(
  store: Store,
  exists: CheckoutExists,
  req: ProjectRequest,
  pid: number | null = null,
  scope: ProjectScope = DAEMON_SCOPE,
): ClaimResult {
  return store.write(() => {
    const mine = byCheckout(store, req.checkout, req.name);
    // A checkout two users share (a group's folder): its stack's name is the user's who
    // claimed it first; another user is refused, never handed it (#28).
    if (mine && !scope.mayChange(mine)) scope.refuse(mine);
    if (mine) return { project: mine, created: false };
    const holder = byName(store, req.name);
    if (!holder) return { project: insert(store, req.name, req, pid, scope.owner), created: true };
    // This checkout's own other name (`shop-review`, now written in its .env): still its own.
    if (holder.checkout === req.checkout) return { project: holder, created: false };
    // Another user's name is theirs (#28): never taken over by someone who may not change it.
    const theirs = !scope.mayChange(holder);
    const gone = !theirs && !exists(holder.checkout);
    if (req.explicit && req.force && theirs) scope.refuse(holder);
    if (gone || (req.explicit && req.force)) {
      const why = gone
        ? `the checkout at ${holder.checkout} no longer exists`
        : `forced by the checkout at ${req.checkout}`;
      return {
        project: takeOver(store, holder, req, { pid, reason: why }, scope.owner),
        created: false,
        takenOverFrom: holder.checkout,
      };
    }
    if (req.explicit) {
      throw new PortError(
        "project_taken",
        `Compose project ${req.name} belongs to the checkout at ${holder.checkout}; this one is ${req.checkout}`,
        undefined,
        { project: holder, checkout: req.checkout },
      );
    }
    // Another user's stack of the same repository: first the name with the caller's user in it.
    const name = alternatives(req, theirs ? scope.label : undefined).find((n) => !byName(store, n));
    if (!name)
      throw new PortError("range_exhausted", `no free Compose project name left for ${req.name}`);
    return { project: insert(store, name, req, pid, scope.owner), created: true };
  });
}

/** Whose a claimed name becomes, and whether the caller may change a held one (owners.ts). */
export interface ProjectScope {
  owner: number | null;
  mayChange: (holder: ProjectRow) => boolean;
  /** Throws the caller's refusal (403 not_yours). */
  refuse: (holder: ProjectRow) => never;
  /** The caller's user, for the name of a stack whose natural name another user holds. */
  label?: string | undefined;
}

const DAEMON_SCOPE: ProjectScope = {
  owner: null,
  mayChange: () => true,
  refuse: () => {
    throw new PortError("internal", "refused by the daemon's own scope");
  },
};

/** `owner` (an ownerKey): that owner's names only (a query by name is the caller's, #28). */
export function listProjects(
  store: Store,
  q: ProjectQuery & { owner?: number } = {},
): ProjectRow[] {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (q.owner !== undefined) {
    conditions.push(`${OWNER_KEY} = ?`);
    params.push(q.owner);
  }
  for (const key of ["app", "instance", "name"] as const) {
    const v = q[key];
    if (v !== undefined) {
      conditions.push(`${key} = ?`);
      params.push(v);
    }
  }
  const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
  return store.db
    .query<ProjectRow, (string | number)[]>(`SELECT ${COLUMNS} FROM projects ${where} ORDER BY id`)
    .all(...params);
}

export function projectById(store: Store, id: number): ProjectRow | null {
  return store.db
    .query<ProjectRow, [number]>(`SELECT ${COLUMNS} FROM projects WHERE id = ?`)
    .get(id);
}

/** Frees these names, each with its event. Call inside `write()`. */
export function removeProjects(
  store: Store,
  rows: ProjectRow[],
  kind: "project_released" | "project_pruned",
  ctx: (p: ProjectRow) => EventContext,
): ProjectRow[] {
  const del = store.db.query("DELETE FROM projects WHERE id = ?");
  for (const p of rows) {
    del.run(p.id);
    event(store, kind, p, ctx(p));
  }
  return rows;
}

// --- internal ---

const COLUMNS = "id, name, natural, app, instance, checkout, created_at, owner_uid";

function byName(store: Store, name: string): ProjectRow | null {
  return store.db
    .query<ProjectRow, [string]>(`SELECT ${COLUMNS} FROM projects WHERE name = ?`)
    .get(name);
}

function byCheckout(store: Store, checkout: string, natural: string): ProjectRow | null {
  return store.db
    .query<ProjectRow, [string, string]>(
      `SELECT ${COLUMNS} FROM projects WHERE checkout = ? AND natural = ?`,
    )
    .get(checkout, natural);
}

function insert(
  store: Store,
  name: string,
  req: ProjectRequest,
  pid: number | null,
  owner: number | null,
): ProjectRow {
  const row = store.db
    .query<ProjectRow, [string, string, string, string, string, string, number | null]>(
      `INSERT INTO projects (name, natural, app, instance, checkout, created_at, owner_uid)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    )
    .get(name, req.name, req.app, req.instance, req.checkout, rfc3339(store.now()), owner);
  if (!row) throw new PortError("storage", "insert returned no row");
  const reason = name === req.name ? "allocated" : `${req.name} is held by another checkout`;
  event(store, "project_allocated", row, { pid, reason });
  return row;
}

function takeOver(
  store: Store,
  holder: ProjectRow,
  req: ProjectRequest,
  ctx: EventContext,
  owner: number | null,
): ProjectRow {
  // The caller may hold another row for this natural name: one name per (checkout, natural).
  store.db
    .query("DELETE FROM projects WHERE checkout = ? AND natural = ? AND id != ?")
    .run(req.checkout, holder.natural, holder.id);
  const row = store.db
    .query<ProjectRow, [string, string, string, number | null, number]>(
      `UPDATE projects SET checkout = ?, app = ?, instance = ?, owner_uid = ? WHERE id = ?
       RETURNING ${COLUMNS}`,
    )
    .get(req.checkout, req.app, req.instance, owner, holder.id);
  if (!row) throw new PortError("storage", "take-over updated no row");
  event(store, "project_taken_over", row, ctx);
  return row;
}

function event(
  store: Store,
  kind: "project_allocated" | "project_released" | "project_taken_over" | "project_pruned",
  p: ProjectRow,
  ctx: EventContext,
): void {
  const a = {
    app: p.app,
    instance: p.instance,
    service: "",
    port: 0,
    checkout: p.checkout,
    project: p.name,
    owner_uid: p.owner_uid,
  };
  recordEvent(store.db, kind, a, ctx, rfc3339(store.now()));
}

/**
 * A later checkout's names for a stack, most telling first: after its user when the name is
 * another user's (`shop-bob`: the Docker engine, and so the name, is one per host), after its
 * instance (`shop-review`,
 * a clone given --instance review), its app (`fix-login-blog`, worktrees of two repositories in
 * folders named after one branch), the folder above it, then a number.
 */
function alternatives(req: ProjectRequest, user?: string): string[] {
  const base = req.name;
  const words = [
    ...(user === undefined ? [] : [user]),
    req.instance,
    req.app,
    basename(dirname(req.checkout)),
  ];
  const out: string[] = [];
  for (const w of words) {
    // A word that is the name itself says nothing (`fix-login-fix-login`).
    const word = normalizeProjectName(w);
    const n = normalizeProjectName(`${base}-${word}`);
    if (word && word !== base && !out.includes(n)) out.push(n);
  }
  for (let i = 2; i < 100; i++) out.push(`${base}-${i}`);
  return out;
}
