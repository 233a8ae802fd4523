// portctl and the state folder (issue #11, points 6 and 7): one daemon per folder whatever
// PORT_SERVER_ADDR says, the log never written through a planted link, and a folder that is not
// ours alone refused before anything is written.
import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { freePort, runIn } from "../helpers/cli.ts";
import { startDaemon, stopAllDaemons, type TempHome, tempHome } from "../helpers/daemon.ts";
import { isAlive } from "../helpers/processes.ts";

const homes: TempHome[] = [];
afterEach(async () => {
  await stopAllDaemons();
  for (const h of homes.splice(0)) h.cleanup();
});

function home(): TempHome {
  const h = tempHome("portctl-folder-");
  homes.push(h);
  return h;
}

const portctl = runIn;

describe("one daemon per state folder (point 7)", () => {
  test("a daemon on one port, PORT_SERVER_ADDR naming another: start, status and stop say where it runs", async () => {
    const h = home();
    const d = await startDaemon({ home: h });
    const pidFile = join(h.state, "port-server.pid");
    const other = freePort();
    const line = `port-server is already running (pid ${d.pid}) on 127.0.0.1:${d.port}`;

    expect(await portctl(h, other, ["start"])).toEqual({ code: 1, out: [], err: [line] });
    expect(readFileSync(pidFile, "utf8")).toBe(`${d.pid}\n`);
    expect(readdirSync(h.state).filter((f) => f.endsWith(".pid"))).toEqual(["port-server.pid"]);

    const status = await portctl(h, other, ["status"]);
    expect(status.code).toBe(0);
    expect(status.out[0]).toBe(line);

    const stop = await portctl(h, other, ["stop"]);
    expect(stop).toEqual({
      code: 1,
      out: [],
      err: [
        `error: refusing to stop pid ${d.pid}: it listens on 127.0.0.1:${d.port}, not on PORT_SERVER_ADDR (http://127.0.0.1:${other}); run: PORT_SERVER_ADDR=127.0.0.1:${d.port} portctl stop`,
      ],
    });
    expect(isAlive(d.pid)).toBe(true);
    expect(await portctl(h, d.port, ["stop"])).toEqual({
      code: 0,
      out: [`port-server stopped (pid ${d.pid})`],
      err: [],
    });
  });
});

describe("the state folder (point 6)", () => {
  test("a planted port-server.log symlink: start refuses, its target untouched, no daemon", async () => {
    const h = home();
    mkdirSync(h.state, { mode: 0o700 });
    const target = join(h.root, "victim.txt");
    writeFileSync(target, "precious\n");
    symlinkSync(target, join(h.state, "port-server.log"));
    const port = freePort();
    const r = await portctl(h, port, ["start"]);
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `error: cannot write the log ${join(h.state, "port-server.log")}: a symbolic link is in the way (not followed) (set PORT_SERVER_HOME to a writable folder)`,
      ],
    });
    expect(readFileSync(target, "utf8")).toBe("precious\n");
    expect(existsSync(join(h.state, "port-server.pid"))).toBe(false);
  });

  test("a folder others may write to: start refuses before writing anything", async () => {
    const h = home();
    mkdirSync(h.state, { mode: 0o700 });
    chmodSync(h.state, 0o777);
    const r = await portctl(h, freePort(), ["start"]);
    expect(r).toEqual({
      code: 1,
      out: [],
      err: [
        `error: refusing the state folder ${h.state}: others may write to it (mode 0777); run: chmod 700 ${h.state}`,
      ],
    });
    expect(readdirSync(h.state)).toEqual([]);
  });
});
