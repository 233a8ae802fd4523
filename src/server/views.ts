// What a caller is shown of the registry (#28): their own allocations and events as they are;
// an admin (the daemon's user, root) everything, with `owner` on other users' rows; anyone else
// another user's row as its port and owner only (`hidden`), never its names, checkout or lease.
// Every allocation and event the API sends goes through here, errors' holders included.
import type { Context } from "hono";
import { PortError } from "../core/errors.ts";
import { hostPathOf } from "../core/hostpath.ts";
import type {
  Allocation,
  EventRow,
  ImportConflict,
  PortEvent,
  Project,
  ProjectRow,
  Row,
} from "../core/model.ts";
import type { Caller, Owners } from "../core/owners.ts";
import type { Edge } from "./app.ts";

/** The caller's view of the registry; a 403 when the kernel could not say who is asking. */
export function viewsOf(c: Context, owners: Owners): Views {
  const uid = (c.env as Edge | undefined)?.uid();
  if (uid === undefined) {
    throw new PortError(
      "forbidden",
      "cannot tell which user sent this request (the kernel does not know its connection)",
    );
  }
  return new Views(owners, owners.caller(uid));
}

/** For an error's holder: the caller's view, or nobody's when the caller is unknown. */
export function viewerOf(c: Context, owners: Owners): Views {
  try {
    return viewsOf(c, owners);
  } catch {
    return new Views(owners, { uid: -1, admin: false });
  }
}

/** A query or filter naming an app, instance or service: it matches the caller's rows only. */
export function byName(q: { app?: unknown; instance?: unknown; service?: unknown }): boolean {
  return q.app !== undefined || q.instance !== undefined || q.service !== undefined;
}

/**
 * A query or filter as the store takes it: one that names an app, instance or service names
 * the caller's own (names are each user's, #28), so it is limited to the caller's rows, an
 * admin's too (who reaches another user's row by its id or port).
 */
export function ownedQuery<Q extends { app?: unknown; instance?: unknown; service?: unknown }>(
  q: Q,
  v: Views,
): Q & { owner?: number } {
  return byName(q) ? { ...q, owner: v.owners.key(v.caller) } : q;
}

/**
 * A checkout sent through the Unix socket from another mount namespace (a container) is a path
 * of the container: recorded as the host's path of that folder when it is a bind mount, else
 * not at all, and the history says why (#28).
 */
export function hostCheckout(
  c: Context,
  checkout: string | null | undefined,
): { checkout: string | null | undefined; note?: string } {
  const pid = (c.env as Edge | undefined)?.pid();
  if (!checkout || pid === undefined) return { checkout };
  const host = hostPathOf(pid, checkout);
  if (host.kind === "same") return { checkout };
  if (host.kind === "translated") return { checkout: host.path };
  return { checkout: null, note: `checkout not recorded: ${host.why}` };
}

export class Views {
  readonly owners: Owners;
  readonly caller: Caller;

  constructor(owners: Owners, caller: Caller) {
    this.owners = owners;
    this.caller = caller;
  }

  row(r: Row): Allocation {
    const { owner_uid: _, ...a } = r;
    if (this.owners.isOwn(r, this.caller)) return a;
    const owner = this.owners.nameOf(r);
    if (this.caller.admin) return { ...a, owner };
    return {
      id: a.id,
      app: "",
      instance: "",
      service: "",
      port: a.port,
      created_at: a.created_at,
      checkout: null,
      last_seen: null,
      lease_pid: null,
      lease_started_at: null,
      lease_session: null,
      // Which ports were allocated together is no secret, and a block is released together.
      block_id: a.block_id,
      // The name is made of the app and service: as secret as they are.
      name: "",
      url: null,
      owner,
      hidden: true,
    };
  }

  event(e: EventRow): PortEvent {
    const { owner_uid: _, ...v } = e;
    if (this.owners.isOwn(e, this.caller)) return v;
    const owner = this.owners.nameOf(e);
    if (this.caller.admin) return { ...v, owner };
    return {
      id: v.id,
      at: v.at,
      kind: v.kind,
      app: "",
      instance: "",
      service: "",
      port: v.port,
      checkout: null,
      pid: null,
      reason: "",
      project: null,
      owner,
      hidden: true,
    };
  }

  /**
   * A list asked by name (app, instance, service) holds only rows the caller may see whole:
   * another user's names are not matched, so a filter cannot probe them.
   */
  rows(rows: Row[], byName: boolean): Allocation[] {
    const out: Allocation[] = [];
    for (const r of rows) {
      if (byName && !this.owners.sees(r, this.caller)) continue;
      out.push(this.row(r));
    }
    return out;
  }

  events(rows: EventRow[], byName: boolean): PortEvent[] {
    const out: PortEvent[] = [];
    for (const e of rows) {
      if (byName && !this.owners.sees(e, this.caller)) continue;
      out.push(this.event(e));
    }
    return out;
  }

  /** A Compose project name: another user's shows only its id, time and owner (#28). */
  project(p: ProjectRow): Project {
    const { owner_uid: _, ...v } = p;
    if (this.owners.isOwn(p, this.caller)) return v;
    const owner = this.owners.nameOf(p);
    if (this.caller.admin) return { ...v, owner };
    return {
      id: v.id,
      name: "",
      natural: "",
      app: "",
      instance: "",
      checkout: "",
      created_at: v.created_at,
      owner,
      hidden: true,
    };
  }

  /** A list asked by name holds only the caller's own projects, like rows(). */
  projects(rows: ProjectRow[], byName: boolean): Project[] {
    const out: Project[] = [];
    for (const p of rows) {
      if (byName && !this.owners.sees(p, this.caller)) continue;
      out.push(this.project(p));
    }
    return out;
  }

  /** `shop/main/web (id=3)`, or `another user (alice)` for a row the caller may not see. */
  describe(r: Row): string {
    if (!this.owners.sees(r, this.caller)) return `another user (${this.owners.nameOf(r)})`;
    const whose = this.owners.isOwn(r, this.caller) ? "" : ` of user ${this.owners.nameOf(r)}`;
    return `${r.app}/${r.instance}/${r.service} (id=${r.id})${whose}`;
  }

  /** An error's holders and conflicts, shown as the caller may see them. */
  error(err: unknown): unknown {
    if (!(err instanceof PortError)) return err;
    const holder = err.holder as Row | undefined;
    let details = err.details;
    const conflicts = details?.conflicts;
    if (Array.isArray(conflicts)) {
      details = {
        ...details,
        conflicts: (conflicts as ImportConflict[]).map((c) =>
          c.holder ? { ...c, holder: this.row(c.holder as Row) } : c,
        ),
      };
    }
    const project = details?.project as ProjectRow | undefined;
    if (project && typeof project === "object" && "owner_uid" in project) {
      if (!this.owners.sees(project, this.caller)) {
        const message = `that Compose project name is held by another user (${this.owners.nameOf(project)})`;
        return new PortError(err.code, message, undefined, {
          ...details,
          project: this.project(project),
        });
      }
      details = { ...details, project: this.project(project) };
    }
    if (!holder && details === err.details) return err;
    if (holder && !this.owners.sees(holder, this.caller)) {
      // The message names the holder's service; say whose it is instead.
      const message = hiddenMessage(err, holder.port, this.owners.nameOf(holder));
      return new PortError(err.code, message, this.row(holder), details);
    }
    return new PortError(err.code, err.message, holder && this.row(holder), details);
  }
}

// --- internal ---

function hiddenMessage(err: PortError, port: number, owner: string): string {
  const who = `another user (${owner})`;
  switch (err.code) {
    case "service_allocated":
      return `this app, instance and service are allocated to ${who}, on port ${port}; choose another instance`;
    case "env_key_taken":
      return `its environment variable ${String(err.details?.key)} is taken in this app and instance by ${who}; choose another name`;
    default:
      return `port ${port} is allocated to ${who}`;
  }
}
