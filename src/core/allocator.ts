// Choosing and recording a port: in a write transaction that ends dead leases, pick the first
// free port (not allocated, not excluded, not listening on the machine) and insert it with its
// event. The UNIQUE constraints have the last word; a lost race on auto-assign is retried. The
// daemon's allocations go through one group commit per turn of the event loop (batch.ts).
import { WriteBatch } from "./batch.ts";
import { attemptBlock, type BlockDeps, RetryBlock } from "./block.ts";
import { type CheckoutExists, checkoutExists, ownership } from "./checkout.ts";
import type { PortRange } from "./config.ts";
import { envKey } from "./envkey.ts";
import { PortError } from "./errors.ts";
import { endDeadLeases, leaseStart } from "./leases.ts";
import { type AllocateRequest, type Row, rfc3339 } from "./model.ts";
import { freeName, parseChosenName } from "./names.ts";
import { type Caller, Owners } from "./owners.ts";
import type { Probe } from "./probe.ts";
import { type Processes, systemProcesses } from "./processes.ts";
import { holdForSession, startSession } from "./sessions.ts";
import { type Store, uniqueViolation } from "./store.ts";

export interface AllocatorOptions {
  store: Store;
  probe: Probe;
  range: PortRange;
  exclude?: PortRange[];
  now?: () => Date;
  processes?: Processes;
  checkoutExists?: CheckoutExists;
  /** Whose rows are whose (default: this process's user runs the registry). */
  owners?: Owners;
}

export interface AllocateOptions {
  /** Return the existing allocation of the same app/instance/service instead of a conflict. */
  reuse?: boolean;
  /**
   * Record an explicit port even though a process listens on it: registering a stack that is
   * already running. Auto-assign never hands out a bound port, adopt or not.
   */
  adopt?: boolean;
  /** The client's process, for the history. */
  pid?: number | null;
  /** Who asks (from the kernel, at the server's edge); default: the daemon's own user. */
  caller?: Caller;
  /** Appended to the history's reason (why the checkout was not recorded, from a container). */
  note?: string;
}

export interface AllocateResult {
  /** The port (a block's first). */
  allocation: Row;
  /** A block's rows, first port first (`count` > 1). */
  block?: Row[];
  /** false when `reuse` returned an allocation that already existed. */
  created: boolean;
  /** Set when reuse moved the allocation to the caller's checkout: the one it had (or null). */
  takenOverFrom?: string | null;
}

export class Allocator {
  readonly range: PortRange;
  readonly exclude: PortRange[];
  readonly processes: Processes;
  readonly checkoutExists: CheckoutExists;
  readonly owners: Owners;
  readonly #store: Store;
  readonly #probe: Probe;
  readonly #now: () => Date;
  readonly #batch: WriteBatch;
  /** During a batch: its one look at the machine's listeners, taken when first asked. */
  #look: (() => Listening) | undefined;

  constructor(opts: AllocatorOptions) {
    this.#store = opts.store;
    this.#probe = opts.probe;
    this.range = opts.range;
    this.exclude = opts.exclude ?? [];
    this.#now = opts.now ?? (() => new Date());
    this.processes = opts.processes ?? systemProcesses();
    this.checkoutExists = opts.checkoutExists ?? checkoutExists;
    this.owners = opts.owners ?? new Owners(process.getuid?.() ?? 0);
    this.#batch = new WriteBatch(this.#store, {
      before: () => {
        this.#endLeases();
        let look: Listening | undefined;
        this.#look = () => (look ??= this.#probe.listening());
      },
      after: () => {
        this.#look = undefined;
      },
    });
  }

  /** Allocates in a transaction of its own. */
  allocate(req: AllocateRequest, opts: AllocateOptions = {}): AllocateResult {
    const leaseStarted = this.#leaseStarted(req);
    return this.#store.write(() => {
      this.#endLeases();
      return this.#retrying(req, opts, leaseStarted);
    });
  }

  /**
   * Allocates in the next group commit, with whatever else is asked in this turn of the event
   * loop (the daemon's path: many agents at once cost one fsync, not one each). Same answers
   * as allocate(), in the order asked.
   */
  allocateBatched(req: AllocateRequest, opts: AllocateOptions = {}): Promise<AllocateResult> {
    try {
      const leaseStarted = this.#leaseStarted(req);
      return this.#batch.submit(() => this.#retrying(req, opts, leaseStarted));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // --- internal ---

  /** Read before the transaction: it may spawn `ps` (macOS), which must not hold the lock. */
  #leaseStarted(req: AllocateRequest): string | null {
    return req.lease_pid ? leaseStart(this.processes, req.lease_pid) : null;
  }

  /** A crashed test suite's leases are freed before anything is handed out. */
  #endLeases(): void {
    endDeadLeases(this.#store, this.processes);
  }

  #listening(): Listening {
    return this.#look ? this.#look() : this.#probe.listening();
  }

  /** Inside a write: a port taken under us resets the cache (store.insert), so retry. */
  #retrying(req: AllocateRequest, opts: AllocateOptions, leaseStarted: string | null) {
    const wanted = req.port || undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const result =
        (req.count ?? 1) > 1
          ? this.#blockOnce(req, wanted, opts, leaseStarted)
          : this.#attempt(req, wanted, opts, leaseStarted);
      if (result) return result;
    }
    throw new PortError("storage", "could not allocate a port: too much contention, try again");
  }

  /** One try, inside a write; returns null when a concurrent writer took the chosen port first. */
  #attempt(
    req: AllocateRequest,
    wanted: number | undefined,
    opts: AllocateOptions,
    leaseStarted: string | null,
  ): AllocateResult | null {
    const caller = opts.caller ?? this.owners.caller(this.owners.daemonUid);
    const owner = this.owners.key(caller);
    // Names are each user's own (#28): only the caller's app/instance/service is looked at.
    const existing = this.#store.byService(owner, req.app, req.instance, req.service);
    if (existing) {
      if (opts.reuse && (wanted === undefined || wanted === existing.port)) {
        return this.#reuse(existing, req, opts, caller);
      }
      throw new PortError("service_allocated", "service already allocated", existing);
    }
    this.#refuseEnvKeyTwin(req, owner);
    const name = this.#name(req, caller);
    const port =
      wanted === undefined ? this.#pickFree() : this.#checkWanted(wanted, opts.adopt ?? false);
    const row = {
      app: req.app,
      instance: req.instance,
      service: req.service,
      port,
      created_at: rfc3339(this.#now()),
      checkout: req.checkout ?? null,
      lease_pid: req.lease_pid ?? null,
      lease_started_at: leaseStarted,
      name,
      http: req.http ?? false,
      lease_session: req.lease_session ?? null,
      owner_uid: this.owners.rowOwner(caller),
    };
    const base = req.lease_pid
      ? `leased to process ${req.lease_pid}`
      : req.lease_session
        ? `held by session ${req.lease_session}`
        : "allocated";
    const reason = opts.note ? `${base}; ${opts.note}` : base;
    try {
      const allocation = this.#store.insert(row, { pid: opts.pid, reason });
      if (req.lease_session) startSession(this.#store, req.lease_session, owner);
      return { allocation, created: true };
    } catch (err) {
      const conflict = uniqueViolation(err);
      if (!conflict) throw err;
      if (wanted === undefined && conflict === "port_allocated") return null;
      // A derived name taken under us (another daemon on this file): the next one is tried.
      if (conflict === "name_taken" && req.name === undefined) return null;
      const holder =
        conflict === "port_allocated"
          ? this.#store.byPort(port)
          : conflict === "name_taken"
            ? this.#store.byName(name)
            : this.#store.byService(owner, req.app, req.instance, req.service);
      throw new PortError(conflict, CONFLICT_MESSAGES[conflict], holder ?? undefined);
    }
  }

  /** One block attempt in a savepoint of its own: a lost race leaves no half block behind. */
  #blockOnce(
    req: AllocateRequest,
    wanted: number | undefined,
    opts: AllocateOptions,
    leaseStarted: string | null,
  ): AllocateResult | null {
    const caller = opts.caller ?? this.owners.caller(this.owners.daemonUid);
    try {
      const deps: BlockDeps = {
        store: this.#store,
        range: this.range,
        now: this.#now,
        excluded: (port) => this.#excluded(port),
        listening: () => this.#listening(),
        checkWanted: (port, adopt) => this.#checkWanted(port, adopt),
        reuse: (existing) => this.#reuse(existing, req, opts, caller),
        ownerUid: this.owners.rowOwner(caller),
        owner: this.owners.key(caller),
        refuseEnvKeyTwin: (service) =>
          this.#refuseEnvKeyTwin({ ...req, service }, this.owners.key(caller)),
        startSession: (session) => startSession(this.#store, session, this.owners.key(caller)),
        name: (service, chosen) => {
          const { name: _, ...rest } = req;
          return this.#name(
            chosen === undefined ? { ...rest, service } : { ...rest, service, name: chosen },
            caller,
          );
        },
      };
      return this.#store.savepoint(() => attemptBlock(deps, req, wanted, opts, leaseStarted));
    } catch (err) {
      if (err instanceof RetryBlock) return null;
      throw err;
    }
  }

  /**
   * The name asked for (409 when another allocation has it), else the first free derived one:
   * hostnames are one per host, so another user's carry their label (owners.label).
   */
  #name(req: AllocateRequest, caller: Caller): string {
    if (req.name === undefined) {
      const taken = (n: string) => this.#store.byName(n) !== null;
      return freeName(req, taken, this.owners.label(caller));
    }
    const name = parseChosenName(req.name);
    const holder = this.#store.byName(name);
    if (holder) throw new PortError("name_taken", `name ${name} is taken`, holder);
    return name;
  }

  /** The existing allocation, if the caller's checkout may have it (taking it over if need be). */
  #reuse(existing: Row, req: AllocateRequest, opts: AllocateOptions, c: Caller): AllocateResult {
    const o = ownership(existing, req.checkout, this.checkoutExists);
    if (o.verdict === "refuse") throw o.error;
    // Marking it HTTP is no change of owner or name: a dev server's second run says so again.
    if (req.http && existing.url === null) {
      this.#store.markHttp(existing.id);
      existing = this.#store.byId(existing.id) ?? existing;
    }
    const held = (a: Row) =>
      req.lease_session ? holdForSession(this.#store, a, req.lease_session) : a;
    if (o.verdict === "same" || !req.checkout) {
      return { allocation: held(existing), created: false };
    }
    const allocation = this.#store.takeOver(existing, req.checkout, {
      pid: opts.pid,
      reason: `${o.reason}${this.owners.whose(existing, c)}`,
    });
    return { allocation: held(allocation), created: false, takenOverFrom: existing.checkout };
  }

  /** `web_api` beside `web-api`: `portctl env` could print only one WEB_API_PORT. */
  #refuseEnvKeyTwin(req: AllocateRequest, owner: number): void {
    const twin = this.#store.envKeyTwin(owner, req.app, req.instance, req.service);
    if (!twin) return;
    const key = envKey(req.service);
    throw new PortError(
      "env_key_taken",
      `service ${req.service} would share ${key} with ${twin.app}/${twin.instance}/${twin.service} (port ${twin.port}); choose another name`,
      twin,
      { key },
    );
  }

  #checkWanted(port: number, adopt: boolean): number {
    const holder = this.#store.byPort(port);
    if (holder) throw new PortError("port_allocated", CONFLICT_MESSAGES.port_allocated, holder);
    // The same question `GET /v1/ports/N` (portctl check) asks, so check and claim agree.
    if (!adopt && this.#listening()(port))
      throw new PortError("port_in_use", "port in use on system");
    return port;
  }

  #pickFree(): number {
    const allocated = this.#store.allocatedPorts();
    // One look at the machine's listeners, taken now, answers for every port in the range.
    const listening = this.#listening();
    // indexOf jumps over allocated ports natively: with 20,000 rows, a JavaScript loop over
    // them was most of an auto-assign's CPU time (bench/scaling.ts).
    for (let port = allocated.indexOf(0, this.range.lo); port >= 0; ) {
      if (port > this.range.hi) break;
      if (!this.#excluded(port) && !listening(port)) return port;
      port = allocated.indexOf(0, port + 1);
    }
    throw new PortError(
      "range_exhausted",
      `no free port left in range ${this.range.lo}-${this.range.hi}`,
    );
  }

  #excluded(port: number): boolean {
    return this.exclude.some((r) => port >= r.lo && port <= r.hi);
  }
}

export { rfc3339 } from "./model.ts";

export type Listening = (port: number) => boolean;

const MAX_ATTEMPTS = 20;
const CONFLICT_MESSAGES = {
  name_taken: "name already taken",
  port_allocated: "port already allocated",
  service_allocated: "service already allocated",
} as const;
