// Leases: an allocation tied to a process ends when that process does. "Does this lease still
// hold" compares the PID's current start time with the one recorded, so a PID the kernel has
// handed to a new process does not keep a dead lease alive.
import { PortError } from "./errors.ts";
import type { Allocation } from "./model.ts";
import type { Processes } from "./processes.ts";
import type { Store } from "./store.ts";

/**
 * Releases every lease whose process has exited (or whose PID now names another process), each
 * with a `lease_ended` event. Call inside `store.write()`; cheap when there are no leases.
 */
export function endDeadLeases(store: Store, processes: Processes): Allocation[] {
  const leased = store.leases();
  if (leased.length === 0) return [];
  const running = processes.startTimes([...new Set(leased.map((a) => a.lease_pid as number))]);
  const ended = leased.filter((a) => running.get(a.lease_pid as number) !== a.lease_started_at);
  return store.remove(ended, "lease_ended", (a) => ({
    pid: a.lease_pid,
    reason: running.has(a.lease_pid as number)
      ? `process ${a.lease_pid} is not the one that took the lease (its PID was reused)`
      : `process ${a.lease_pid} exited`,
  }));
}

/** The start time to record for a new lease; refuses a PID that is not running. */
export function leaseStart(processes: Processes, pid: number): string {
  const started = processes.startTimes([pid]).get(pid);
  if (started === undefined) {
    throw new PortError("bad_request", `lease_pid ${pid} is not a running process`);
  }
  return started;
}
