// Choosing and recording a port: one write transaction that picks the first free port (not
// allocated, not excluded, not bound on the machine) and inserts it. The UNIQUE constraints
// have the last word; a lost race on auto-assign is retried with the next port.
import type { PortRange } from "./config.ts";
import { PortError } from "./errors.ts";
import type { AllocateRequest, Allocation } from "./model.ts";
import type { Probe } from "./probe.ts";
import { type Store, uniqueViolation } from "./store.ts";

export interface AllocatorOptions {
  store: Store;
  probe: Probe;
  range: PortRange;
  exclude?: PortRange[];
  now?: () => Date;
}

export interface AllocateOptions {
  /** Return the existing allocation of the same app/instance/service instead of a conflict. */
  reuse?: boolean;
  /**
   * Record an explicit port even though a process listens on it: registering a stack that is
   * already running. Auto-assign never hands out a bound port, adopt or not.
   */
  adopt?: boolean;
}

export interface AllocateResult {
  allocation: Allocation;
  /** false when `reuse` returned an allocation that already existed. */
  created: boolean;
}

export class Allocator {
  readonly range: PortRange;
  readonly exclude: PortRange[];
  readonly #store: Store;
  readonly #probe: Probe;
  readonly #now: () => Date;

  constructor(opts: AllocatorOptions) {
    this.#store = opts.store;
    this.#probe = opts.probe;
    this.range = opts.range;
    this.exclude = opts.exclude ?? [];
    this.#now = opts.now ?? (() => new Date());
  }

  allocate(req: AllocateRequest, opts: AllocateOptions = {}): AllocateResult {
    const wanted = req.port || undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const result = this.#store.write(() => this.#attempt(req, wanted, opts));
      if (result) return result;
    }
    throw new PortError("storage", "could not allocate a port: too much contention, try again");
  }

  // --- internal ---

  /** One transaction; returns null when a concurrent writer took the chosen port first. */
  #attempt(
    req: AllocateRequest,
    wanted: number | undefined,
    opts: AllocateOptions,
  ): AllocateResult | null {
    const existing = this.#store.byService(req.app, req.instance, req.service);
    if (existing) {
      if (opts.reuse && (wanted === undefined || wanted === existing.port)) {
        return { allocation: existing, created: false };
      }
      throw new PortError("service_allocated", "service already allocated", existing);
    }
    const port =
      wanted === undefined ? this.#pickFree() : this.#checkWanted(wanted, opts.adopt ?? false);
    try {
      const allocation = this.#store.insert({ ...req, port, created_at: rfc3339(this.#now()) });
      return { allocation, created: true };
    } catch (err) {
      const conflict = uniqueViolation(err);
      if (!conflict) throw err;
      if (wanted === undefined && conflict === "port_allocated") return null;
      const holder =
        conflict === "port_allocated"
          ? this.#store.byPort(port)
          : this.#store.byService(req.app, req.instance, req.service);
      throw new PortError(conflict, CONFLICT_MESSAGES[conflict], holder ?? undefined);
    }
  }

  #checkWanted(port: number, adopt: boolean): number {
    const holder = this.#store.byPort(port);
    if (holder) throw new PortError("port_allocated", CONFLICT_MESSAGES.port_allocated, holder);
    if (!adopt && this.#probe.isBound(port))
      throw new PortError("port_in_use", "port in use on system");
    return port;
  }

  #pickFree(): number {
    const allocated = this.#store.allocatedPorts();
    const bound = this.#probe.listening();
    for (let port = this.range.lo; port <= this.range.hi; port++) {
      // The snapshot skips known listeners cheaply; the bind test confirms the one we hand out.
      if (allocated[port] || this.#excluded(port) || bound(port) || this.#probe.isBound(port))
        continue;
      return port;
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

/** `2025-02-08T15:04:05Z`: RFC 3339, UTC, whole seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const MAX_ATTEMPTS = 20;
const CONFLICT_MESSAGES = {
  port_allocated: "port already allocated",
  service_allocated: "service already allocated",
} as const;
