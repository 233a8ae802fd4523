// What the daemon remembers of the database between requests: which ports are allocated (a
// 65536-entry map, so auto-assign stays fast with tens of thousands of rows) and each asked
// port's holder and newest event (`GET /v1/ports/N` asks on every call). One rule keeps both
// true: everything is dropped when another connection (another daemon on the same file) has
// committed since we last looked (PRAGMA data_version: inside every write, and once per turn of
// the event loop for the records), and our own writes keep them in step.
import { envKey } from "./envkey.ts";
import type { EventRow, Row } from "./model.ts";

export interface PortRecord {
  holder: Row | null;
  lastEvent: EventRow | null;
}

export class PortCache {
  /** PRAGMA data_version: changes when another connection commits, never for our own. */
  readonly #dataVersion: () => number;
  #version = -1;
  #ports: Uint8Array | null = null;
  readonly #records = new Map<number, PortRecord>();
  /**
   * Per app and instance, each environment variable and the services that make it (envkey.ts):
   * several only in a database from before the rule (web-api beside web_api).
   */
  readonly #keys = new Map<string, Map<string, string[]>>();
  /** record() asks data_version once per turn of the event loop (a busy `check` costs less). */
  #askedThisTurn = false;

  constructor(dataVersion: () => number) {
    this.#dataVersion = dataVersion;
  }

  /** The allocated-ports map; `load` gives every allocated port when it must be read anew. */
  ports(load: () => Iterable<number>): Uint8Array {
    this.#sync();
    if (!this.#ports) {
      const ports = new Uint8Array(65536);
      for (const port of load()) ports[port] = 1;
      this.#ports = ports;
    }
    return this.#ports;
  }

  /** A port's holder and newest event; `load` reads them when they are not known. */
  record(port: number, load: () => PortRecord): PortRecord {
    // Once per turn, like the look at the listeners (probe.ts batchedListening): every check
    // answered in one turn is as of that turn, which began after each of them arrived.
    if (!this.#askedThisTurn) {
      this.#sync();
      this.#askedThisTurn = true;
      setImmediate(() => {
        this.#askedThisTurn = false;
      });
    }
    let record = this.#records.get(port);
    if (!record) {
      record = load();
      this.#records.set(port, record);
    }
    return record;
  }

  /**
   * The service of app/instance whose environment variable `service` would make too (another
   * name: `web_api` beside `web-api`), if any; `load` gives the app/instance's service names
   * when they must be read anew. Inside a write: an allocation asks it, and must not scan the
   * whole app/instance every time (bench/throughput allocates thousands into one).
   */
  keyTwin(
    owner: number,
    app: string,
    instance: string,
    service: string,
    load: () => string[],
  ): string | undefined {
    this.#sync();
    const id = `${owner}\u0000${app}\u0000${instance}`;
    let keys = this.#keys.get(id);
    if (!keys) {
      keys = new Map();
      for (const name of load()) add(keys, envKey(name), name);
      this.#keys.set(id, keys);
    }
    for (const name of keys.get(envKey(service)) ?? []) if (name !== service) return name;
    return undefined;
  }

  /** Our own insert (true) or delete (false) of this allocation, inside a write. */
  mark(
    a: {
      port: number;
      app: string;
      instance: string;
      service: string;
      owner_uid: number | null;
    },
    allocated: boolean,
  ): void {
    this.#ports?.fill(allocated ? 1 : 0, a.port, a.port + 1);
    const keys = this.#keys.get(`${a.owner_uid ?? -1}\u0000${a.app}\u0000${a.instance}`);
    if (!keys) return;
    const key = envKey(a.service);
    if (allocated) {
      add(keys, key, a.service);
      return;
    }
    // Only this name goes: another with the same variable (from before the rule) stays a twin.
    const rest = (keys.get(key) ?? []).filter((name) => name !== a.service);
    if (rest.length) keys.set(key, rest);
    else keys.delete(key);
  }

  /** After any write of ours: records may have changed (the map was kept by mark()). */
  written(): void {
    this.#records.clear();
  }

  /** After a failed write: nothing known is trusted. */
  reset(): void {
    this.#ports = null;
    this.#records.clear();
    this.#keys.clear();
  }

  // --- internal ---

  #sync(): void {
    const version = this.#dataVersion();
    if (version === this.#version) return;
    this.reset();
    this.#version = version;
  }
}

function add(keys: Map<string, string[]>, key: string, name: string): void {
  const names = keys.get(key);
  if (!names) keys.set(key, [name]);
  else if (!names.includes(name)) names.push(name);
}
