// Loaded before every test file (bunfig.toml). The ports people's own servers usually hold (a dev
// server on 3000, PostgreSQL on 5432, a proxy on 8080) are held for the whole run, so a test that
// counts on one of them being free fails here, on every run, not only on a busy laptop.
const USUALLY_BUSY = [3000, 5432, 8080];

for (const port of USUALLY_BUSY) {
  try {
    Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } }).unref();
  } catch {
    // already held by something else: busy either way
  }
}
