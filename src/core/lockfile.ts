// What the daemon's lock file (`port-server.lock` in the state folder) says about its holder.
// The daemon writes it (server/lock.ts); a second daemon and portctl read it to name the
// running one. Only a hint: the holder may have exited, so it is checked before it is trusted.
import { readFileSync } from "node:fs";

export interface LockHolder {
  pid: number;
  /** `127.0.0.1:52130`, once the holder listens. */
  address?: string;
}

/** Who wrote the lock file last (it may have exited since: check before trusting it). */
export function readLockHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number") return undefined;
    return typeof parsed.address === "string"
      ? { pid: parsed.pid, address: parsed.address }
      : { pid: parsed.pid };
  } catch {
    return undefined;
  }
}

export function alreadyRunning(holder: LockHolder | undefined): string {
  if (!holder) return "port-server is already running for this state folder";
  const where = holder.address ? ` on ${holder.address}` : "";
  return `port-server is already running (pid ${holder.pid})${where}`;
}
