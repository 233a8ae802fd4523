// Where the pinned agent hosts live: outside the repository (they weigh ~1 GB), shared by
// every clone and worktree. PORT_SERVER_TEST_HOSTS overrides it.
import { homedir } from "node:os";
import { join } from "node:path";

export function hostsCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORT_SERVER_TEST_HOSTS) return env.PORT_SERVER_TEST_HOSTS;
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "port-server-test", "agents");
}
