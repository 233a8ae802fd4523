// Bytes passing through the proxy arrive as a new buffer per read, each garbage once written:
// a 1 GB upload leaves ~1 GB of it behind, and the collector runs on its own schedule, so the
// daemon's resident memory climbed by ~40 MB under a long transfer (bench/proxy.ts) though no
// byte was held. A full collection every COLLECT_EVERY bytes read into the daemon keeps that
// under 20 MB (measured: a minor one, Bun.gc(false), left it at ~30 MB; every 32 MB, 22-23 MB
// once uploads went faster by splice, 14 MB every 16 MB). Bytes moved by splice (splice.ts)
// never enter the daemon and are not counted.

/** Bytes passed on, in either direction, between two collections. */
const COLLECT_EVERY = 16 * 1024 * 1024;
let passed = 0;

/** Counts bytes passed on; every COLLECT_EVERY, collects (a few ms, ~30 times per GB). */
export function churn(bytes: number): void {
  passed += bytes;
  if (passed < COLLECT_EVERY) return;
  passed = 0;
  Bun.gc(true);
}
