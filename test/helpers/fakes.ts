// Test doubles for what core lets callers inject: the port probe, the container engine and the
// clock.
import type { Engine } from "../../src/core/engine.ts";
import type { Container, SystemUse } from "../../src/core/model.ts";
import type { Probe } from "../../src/core/probe.ts";
import type { Processes } from "../../src/core/processes.ts";

/** A probe whose "listening on the machine" ports are a mutable set the test controls. */
export interface FakeProbe extends Probe {
  readonly bound: Set<number>;
  /** A bound port's owner when it is not FAKE_OWNER (`docker-proxy`, say). */
  readonly owners: Map<number, { pid?: number; process?: string }>;
  /** How many times `listening()` has looked at the machine. */
  readonly snapshots: number;
}

/** The process a fake probe reports as owning every bound port. */
export const FAKE_OWNER = { pid: 4321, process: "postgres" } as const;

export function fakeProbe(bound: Iterable<number> = []): FakeProbe {
  const ports = new Set(bound);
  const owners = new Map<number, { pid?: number; process?: string }>();
  let snapshots = 0;
  return {
    bound: ports,
    owners,
    get snapshots() {
      return snapshots;
    },
    listening() {
      snapshots++;
      const snapshot = new Set(ports);
      return (port) => snapshot.has(port);
    },
    who(port): SystemUse {
      return ports.has(port)
        ? { in_use: true, ...(owners.get(port) ?? FAKE_OWNER) }
        : { in_use: false };
    },
  };
}

/** An engine whose published ports the test controls, counting the questions it is asked. */
export interface FakeEngine extends Engine {
  readonly containers: Map<number, Container>;
  readonly asked: (number | undefined)[];
}

export function fakeEngine(containers: Iterable<[number, Container]> = []): FakeEngine {
  const table = new Map(containers);
  const asked: (number | undefined)[] = [];
  return {
    containers: table,
    asked,
    async published(port) {
      asked.push(port);
      return new Map([...table].filter(([p]) => port === undefined || p === port));
    },
  };
}

/** The ownership fields of an allocation made without checkout, lease or listener. */
export const UNOWNED = {
  checkout: null,
  last_seen: null,
  lease_pid: null,
  lease_started_at: null,
  block_id: null,
  lease_session: null,
} as const;

/** The same, as the store holds it: also no owner uid (the daemon's own user's row). */
export const STORED = { ...UNOWNED, owner_uid: null } as const;

/** A fixed instant with milliseconds, and how it must appear in `created_at`. */
export const CLOCK = new Date("2025-02-08T15:04:05.678Z");
export const CREATED_AT = "2025-02-08T15:04:05Z";
export const fixedClock = () => new Date(CLOCK);

/** A process table the test controls: PID → start time. A PID absent from it is not running. */
export interface FakeProcesses extends Processes {
  readonly running: Map<number, string>;
}

export function fakeProcesses(running: Iterable<[number, string]> = []): FakeProcesses {
  const table = new Map(running);
  return {
    running: table,
    startTimes: (pids) =>
      new Map(
        pids.flatMap((p): [number, string][] => {
          const t = table.get(p);
          return t === undefined ? [] : [[p, t]];
        }),
      ),
  };
}

/** A stored row as the API shows it to its owner: without the owner's uid (server/views.ts). */
export function shown<T extends { owner_uid?: unknown }>(row: T): Omit<T, "owner_uid"> {
  const { owner_uid: _, ...rest } = row;
  return rest;
}
