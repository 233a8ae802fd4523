// Whose an allocation is, and who may change it (#28). The caller's uid comes from the kernel at
// the server's edge (server/caller.ts); here it is plain data. A row's owner_uid is null for the
// daemon's own user (every row from before owners were recorded), else the owner's uid.
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { PortError } from "./errors.ts";
import type { Row } from "./model.ts";
import { dnsLabel } from "./names.ts";

/** Who made a request, as the kernel said. */
export interface Caller {
  uid: number;
  /** The daemon's own user or root: may act on every allocation, saying whose. */
  admin: boolean;
}

/** The users of one daemon: its own uid, and names for uids. */
export class Owners {
  readonly daemonUid: number;
  readonly #names: (uid: number) => string;

  constructor(daemonUid: number, names: (uid: number) => string = userName) {
    this.daemonUid = daemonUid;
    this.#names = names;
  }

  caller(uid: number): Caller {
    return { uid, admin: uid === this.daemonUid || uid === 0 };
  }

  /** What a new row of this caller stores in owner_uid. */
  rowOwner(c: Caller): number | null {
    return c.uid === this.daemonUid ? null : c.uid;
  }

  /**
   * The caller's owner key (queries.ts ownerKey): every lookup by name is within it, since
   * names (app, instance, service; sessions) are each user's own.
   */
  key(c: Caller): number {
    return this.rowOwner(c) ?? -1;
  }

  /**
   * The label another user's derived names carry (`web.shop.bob.localhost`), so that their
   * hostnames never meet the daemon's user's; none for the daemon's own user.
   */
  label(c: Caller): string | undefined {
    return c.uid === this.daemonUid ? undefined : dnsLabel(this.name(c.uid));
  }

  /** The uid a row belongs to. */
  uidOf(row: Pick<Row, "owner_uid">): number {
    return row.owner_uid ?? this.daemonUid;
  }

  isOwn(row: Pick<Row, "owner_uid">, c: Caller): boolean {
    return this.uidOf(row) === c.uid;
  }

  /** The caller sees the whole row: their own, or any for an admin. */
  sees(row: Pick<Row, "owner_uid">, c: Caller): boolean {
    return c.admin || this.isOwn(row, c);
  }

  name(uid: number): string {
    return this.#names(uid);
  }

  nameOf(row: Pick<Row, "owner_uid">): string {
    return this.#names(this.uidOf(row));
  }

  /** Throws `not_yours` (403, nothing changed) unless the caller may change this row. */
  mayChange(row: Row, c: Caller, action: string): void {
    if (this.sees(row, c)) return;
    const owner = this.nameOf(row);
    throw new PortError(
      "not_yours",
      `port ${row.port} belongs to user ${owner}, not to you (${this.name(c.uid)}): you cannot ${action} it`,
      undefined,
      { owner, port: row.port },
    );
  }

  /** `(of user bob)` when an admin acts on another user's row, for the history's reason. */
  whose(row: Pick<Row, "owner_uid">, c: Caller): string {
    return this.isOwn(row, c) ? "" : ` (of user ${this.nameOf(row)}, by ${this.name(c.uid)})`;
  }
}

/**
 * A user's name from /etc/passwd (re-read when it changes); `uid 1234` when it has none. Our own
 * name is asked of the system (getpwuid through NSS): a systemd DynamicUser is in no file.
 */
export function userName(uid: number): string {
  const table = passwd();
  return table.get(uid) ?? (uid === process.getuid?.() ? ownName() : undefined) ?? `uid ${uid}`;
}

// --- internal ---

let own: string | undefined | null = null;

function ownName(): string | undefined {
  if (own === null) {
    try {
      own = userInfo().username;
    } catch {
      own = undefined;
    }
  }
  return own;
}

let cached: { mtimeMs: number; table: Map<number, string> } | undefined;
const PASSWD = "/etc/passwd";

function passwd(): Map<number, string> {
  let mtimeMs = -1;
  try {
    mtimeMs = Bun.file(PASSWD).lastModified;
  } catch {
    // no file: names stay uids
  }
  if (cached && cached.mtimeMs === mtimeMs) return cached.table;
  const table = new Map<number, string>();
  try {
    for (const line of readFileSync(PASSWD, "utf8").split("\n")) {
      const [name, , uid] = line.split(":");
      // A name from a file of the machine is still shown escaped by the CLI; keep it sane here.
      if (name && uid && /^\d+$/.test(uid) && /^[A-Za-z0-9._-][A-Za-z0-9._$-]{0,63}$/.test(name)) {
        if (!table.has(Number(uid))) table.set(Number(uid), name);
      }
    }
  } catch {
    // unreadable: names stay uids
  }
  cached = { mtimeMs, table };
  return table;
}
