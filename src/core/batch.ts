// Group commit: the writes asked for in one turn of the event loop share one transaction, and
// so one fsync, instead of one each (with `synchronous = FULL` the COMMIT is most of an
// allocation's time; bench/throughput). Each write runs in a savepoint of its own, so one that
// fails is undone alone and fails alone while the others commit. Nobody is answered before the
// COMMIT: an answer still means the change is on disk, and a failed COMMIT fails them all.
import type { Store } from "./store.ts";

export interface BatchHooks {
  /** Runs first in each batch's transaction (ending dead leases, say). */
  before?: () => void;
  /** Runs after each batch, committed or not. */
  after?: () => void;
}

export class WriteBatch {
  readonly #store: Store;
  readonly #hooks: BatchHooks;
  #queue: Pending[] = [];

  constructor(store: Store, hooks: BatchHooks = {}) {
    this.#store = store;
    this.#hooks = hooks;
  }

  /** Runs `fn` in the next batch; settles once that batch has committed (or failed). */
  submit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { fn, resolve: resolve as (v: unknown) => void, reject };
      // setImmediate: after this turn's I/O, so every request read in it joins the batch.
      if (this.#queue.push(pending) === 1) setImmediate(() => this.#flush());
    });
  }

  // --- internal ---

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    const outcomes: Outcome[] = [];
    try {
      this.#store.write(() => {
        this.#hooks.before?.();
        for (const { fn } of batch) {
          try {
            outcomes.push({ ok: true, value: this.#store.savepoint(fn) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
          // SQLITE_FULL or an I/O error rolls back the whole transaction, not the savepoint: the
          // rest must not run outside it, each committed alone, while all are told it failed.
          if (!this.#store.db.inTransaction) throw lostTransaction(outcomes.at(-1));
        }
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    } finally {
      this.#hooks.after?.();
    }
    batch.forEach((p, i) => {
      const o = outcomes[i] as Outcome;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }
}

function lostTransaction(last: Outcome | undefined): unknown {
  return last && !last.ok ? last.error : new Error("the batch's transaction ended early");
}

interface Pending {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
