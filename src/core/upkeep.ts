// What the daemon does between requests: end the leases of exited processes and of lapsed agent
// sessions (within about two seconds), note which allocated ports are listening (`last_seen`, at most once a minute per
// port, in one batch), and trim the history. Each step is a method, so tests run them directly.

import { type CheckoutExists, checkoutExists } from "./checkout.ts";
import { LAST_SEEN_EVERY_MS, LEASE_CHECK_MS, SEEN_CHECK_MS, TRIM_EVERY_MS } from "./config.ts";
import { endDeadLeases } from "./leases.ts";
import { type Allocation, rfc3339 } from "./model.ts";
import type { Probe } from "./probe.ts";
import type { Processes } from "./processes.ts";
import { endLapsedSessions } from "./sessions.ts";
import type { Store } from "./store.ts";

const TRIM_FIRST_MS = 5000;

export interface UpkeepOptions {
  store: Store;
  probe: Probe;
  processes: Processes;
  checkoutExists?: CheckoutExists;
  /** Where a failed step is reported (the daemon's log); the daemon keeps serving. */
  log?: (message: string) => void;
}

export class Upkeep {
  readonly #o: UpkeepOptions;
  #timers: ReturnType<typeof setTimeout>[] = [];

  constructor(opts: UpkeepOptions) {
    this.#o = opts;
  }

  /** Releases the allocations of ended leases; returns them. */
  endLeases(): Allocation[] {
    const { store, processes } = this.#o;
    if (store.leases().length === 0) return []; // the common case, without a write lock
    return store.write(() => endDeadLeases(store, processes));
  }

  /** Releases what sessions silent past their ttl, or whose checkout is gone, held. */
  endSessions(): Allocation[] {
    return endLapsedSessions(this.#o.store, this.#o.checkoutExists ?? checkoutExists);
  }

  /** Sets `last_seen` on allocated ports that listen now and were not marked in the last minute. */
  recordSeen(): number {
    const { store, probe } = this.#o;
    const now = store.now();
    const stale = store.seenBefore(rfc3339(new Date(now.getTime() - LAST_SEEN_EVERY_MS)));
    if (stale.length === 0) return 0;
    const listening = probe.listening();
    const seen = stale.filter((a) => listening(a.port)).map((a) => a.id);
    store.markSeen(seen, rfc3339(now));
    return seen.length;
  }

  trim(): number {
    return this.#o.store.trimEvents();
  }

  /** Runs every step on its schedule until `stop()`. */
  start(): void {
    this.#every(LEASE_CHECK_MS, () => this.endLeases());
    this.#every(LEASE_CHECK_MS, () => this.endSessions());
    this.#every(SEEN_CHECK_MS, () => this.recordSeen());
    this.#every(TRIM_EVERY_MS, () => this.trim());
    // Once soon after start too (a daemon restarted daily would never reach the interval), but
    // not in the start-up path itself: nothing may delay the signal handlers taking effect.
    this.#timers.push(setTimeout(() => this.#guard(() => this.trim()), TRIM_FIRST_MS));
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
  }

  // --- internal ---

  #every(ms: number, step: () => unknown): void {
    this.#timers.push(setInterval(() => this.#guard(step), ms));
  }

  #guard(step: () => unknown): void {
    try {
      step();
    } catch (err) {
      this.#o.log?.(`upkeep failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
