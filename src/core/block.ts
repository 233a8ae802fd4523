// A block of contiguous ports (`allocate --count N`, a Compose host range): all or nothing, one
// row per port (`cache`, `cache-2`, …) sharing the first row's id as block_id. Runs inside the
// allocator's savepoint, which undoes a half-inserted block; store.remove() frees it whole.
import type { AllocateOptions, AllocateResult, Listening } from "./allocator.ts";
import type { PortRange } from "./config.ts";
import { PortError } from "./errors.ts";
import { type AllocateRequest, type Row, rfc3339 } from "./model.ts";
import { type Store, uniqueViolation } from "./store.ts";

/** What a block needs of the allocator (its private checks, passed in). */
export interface BlockDeps {
  store: Store;
  range: PortRange;
  now: () => Date;
  excluded(port: number): boolean;
  listening(): Listening;
  checkWanted(port: number, adopt: boolean): number;
  /** The existing row, if the caller's checkout may have it (taking it over if need be). */
  reuse(existing: Row): AllocateResult;
  /** The owner recorded on each row (owners.ts). */
  ownerUid: number | null;
  /** The caller's owner key (queries.ts ownerKey): the block's names are looked up in it. */
  owner: number;
  refuseEnvKeyTwin(service: string): void;
  /** Records the session a block is held for (sessions.ts), as a single allocation does. */
  startSession(session: string): void;
  /** The name of the row for `service` (names.ts): the one asked for, else a derived free one. */
  name(service: string, chosen: string | undefined): string;
}

/** A block lost a port to a concurrent writer: its savepoint is undone and it picks again. */
export class RetryBlock extends Error {}

/** A block's service names: `cache`, `cache-2`, `cache-3`… */
export function blockNames(service: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? service : `${service}-${i + 1}`));
}

/** One try, inside a savepoint; throws RetryBlock when a concurrent writer took a port first. */
export function attemptBlock(
  deps: BlockDeps,
  req: AllocateRequest,
  wanted: number | undefined,
  opts: AllocateOptions,
  leaseStarted: string | null,
): AllocateResult {
  const { store } = deps;
  const count = req.count ?? 1;
  const names = blockNames(req.service, count);
  const existing = store.byService(deps.owner, req.app, req.instance, req.service);
  if (existing) return again(deps, existing, count, wanted, opts);
  for (const name of names.slice(1)) {
    const other = store.byService(deps.owner, req.app, req.instance, name);
    if (other) {
      const why = `service ${name} (port ${other.port}) is in the way of this block`;
      throw new PortError("service_allocated", why, other);
    }
  }
  for (const service of names) deps.refuseEnvKeyTwin(service);
  // A name asked for is the first port's; the others get derived ones, as any allocation does.
  const rowNames = names.map((service, i) => deps.name(service, i === 0 ? req.name : undefined));
  const first =
    wanted === undefined
      ? pickRun(deps, count)
      : checkRun(deps, wanted, count, opts.adopt ?? false);
  const reason = req.lease_pid
    ? `leased to process ${req.lease_pid}`
    : req.lease_session
      ? `held by session ${req.lease_session}`
      : `allocated (block of ${count})`;
  const rows: Row[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const row = {
        app: req.app,
        instance: req.instance,
        service: names[i] as string,
        port: first + i,
        created_at: rfc3339(deps.now()),
        checkout: req.checkout ?? null,
        lease_pid: req.lease_pid ?? null,
        lease_started_at: leaseStarted,
        name: rowNames[i] as string,
        http: req.http ?? false,
        owner_uid: deps.ownerUid,
        lease_session: req.lease_session ?? null,
      };
      rows.push(store.insert(row, { pid: opts.pid, reason: note(reason, opts) }));
    }
  } catch (err) {
    const conflict = uniqueViolation(err);
    if (!conflict) throw err;
    if (wanted === undefined && conflict === "port_allocated") throw new RetryBlock();
    // A derived name taken under us (another daemon on this file): the next one is tried.
    if (conflict === "name_taken" && req.name === undefined) throw new RetryBlock();
    throw new PortError(conflict, MESSAGES[conflict]);
  }
  if (req.lease_session) deps.startSession(req.lease_session);
  const blockId = (rows[0] as Row).id;
  const block = rows.map((r) => store.setBlock(r.id, blockId));
  return { allocation: block[0] as Row, block, created: true };
}

// --- internal ---

function note(reason: string, opts: AllocateOptions): string {
  return opts.note ? `${reason}; ${opts.note}` : reason;
}

const MESSAGES = {
  name_taken: "name already taken",
  port_allocated: "port already allocated",
  service_allocated: "service already allocated",
} as const;

/** The service holds a block already: the same one back (reuse, same size), else a conflict. */
function again(
  deps: BlockDeps,
  existing: Row,
  count: number,
  wanted: number | undefined,
  opts: AllocateOptions,
): AllocateResult {
  const block = existing.block_id === null ? [existing] : deps.store.block(existing.block_id);
  if (opts.reuse && block.length === count && (wanted === undefined || wanted === existing.port)) {
    const first = deps.reuse(existing);
    const rows = block.map((b) =>
      b.id === existing.id ? first.allocation : deps.reuse(b).allocation,
    );
    return { ...first, block: rows };
  }
  const what = block.length === 1 ? `port ${existing.port}` : `a block of ${block.length} ports`;
  throw new PortError("service_allocated", `service already allocated (${what})`, existing);
}

/** The first port of `count` free ones in a row, inside the range. */
function pickRun(deps: BlockDeps, count: number): number {
  const allocated = deps.store.allocatedPorts();
  const listening = deps.listening();
  const { lo, hi } = deps.range;
  let run = 0;
  for (let port = lo; port <= hi; port++) {
    const free = allocated[port] === 0 && !deps.excluded(port) && !listening(port);
    run = free ? run + 1 : 0;
    if (run === count) return port - count + 1;
  }
  throw new PortError(
    "range_exhausted",
    `no ${count} free ports in a row left in range ${lo}-${hi}`,
  );
}

/** `first`…`first+count-1`, each as an explicit port would be checked. */
function checkRun(deps: BlockDeps, first: number, count: number, adopt: boolean): number {
  if (first + count - 1 > 65535) {
    // A conflict with the port space, not a malformed request: the document allows both numbers.
    throw new PortError(
      "range_exhausted",
      `a block of ${count} from port ${first} goes past 65535`,
    );
  }
  for (let p = first; p < first + count; p++) deps.checkWanted(p, adopt);
  return first;
}
