// The repros of issue #11's three exploits, on the compiled binaries: a fake /healthz (the
// issue's ten-line Python server) naming a `sleep`, a stale PID file naming a
// `tail -f …/src/server/main.ts` decoy, another registry's daemon, and a hostile compose file.
// Nothing but this registry's own daemon is ever signalled, and no raw escape reaches stdout.
// Also on the binaries: one daemon per state folder, and a folder others may write refused.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { builtBinaries, runBinary } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";
import { RAW_CONTROL } from "../helpers/impostor.ts";
import { daemonPids, isAlive, killHard } from "../helpers/processes.ts";

const TEST_TIMEOUT_MS = 60_000;
let portctl = "";
beforeAll(async () => {
  portctl = join(await builtBinaries(), "portctl");
}, 120_000);

interface Sandbox {
  home: TempHome;
  port: number;
  env: Record<string, string>;
}
const sandboxes: Sandbox[] = [];
const children: ReturnType<typeof Bun.spawn>[] = [];

function sandbox(port = freePort()): Sandbox {
  const home = tempHome("portctl-trust-");
  const sb = {
    home,
    port,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home.root,
      PORT_SERVER_HOME: home.state,
      PORT_SERVER_ADDR: `127.0.0.1:${port}`,
    },
  };
  sandboxes.push(sb);
  return sb;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.exited;
  }
  for (const sb of sandboxes.splice(0)) {
    await run(sb, ["stop"]);
    for (const pid of daemonPids(sb.port)) killHard(pid);
    sb.home.cleanup();
  }
}, 30_000);

async function run(sb: Sandbox, args: string[]) {
  const r = await runBinary(portctl, args, { cwd: sb.home.root, env: sb.env });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function spawnChild(cmd: string[]) {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  children.push(proc);
  return proc;
}

/** The repro: any GET answers `{"status":"ok","pid":<pid>}` (and a hostile version). */
async function pythonHealthz(pid: number): Promise<number> {
  const script = `
import http.server, json, sys
body = json.dumps({"status": "ok", "pid": int(sys.argv[1]), "version": "\\x1b]0;PWNED\\x07"}).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`;
  const proc = spawnChild(["python3", "-c", script, String(pid)]);
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return Number(new TextDecoder().decode(value).trim());
}

async function expectUntouched(proc: ReturnType<typeof Bun.spawn>): Promise<void> {
  await Bun.sleep(100); // a signal, had one been sent, would have landed by now
  expect(isAlive(proc.pid)).toBe(true);
  expect(proc.signalCode).toBeNull();
}

/** The lines of an output that carry a raw control character. */
const rawLines = (text: string) => text.split("\n").filter((line) => RAW_CONTROL.test(line));

const hasPython = Bun.which("python3") !== null;

describe("exploit 1: a fake /healthz", () => {
  test.skipIf(!hasPython)(
    "naming a sleep: stop and restart refuse, the sleep lives, status prints the reply escaped",
    async () => {
      const sleeper = spawnChild(["sleep", "30"]);
      const sb = sandbox(await pythonHealthz(sleeper.pid));
      for (const cmd of ["stop", "restart"]) {
        const r = await run(sb, [cmd]);
        expect(r).toEqual({
          code: 1,
          out: "",
          err: `error: refusing to stop pid ${sleeper.pid}: it is not a port-server executable (${Bun.which("sleep")})\n`,
        });
      }
      await expectUntouched(sleeper);
      const status = await run(sb, ["status"]);
      expect(status.code).toBe(0);
      expect(rawLines(status.out)).toEqual([]);
      expect(status.out).toContain(`pid ${sleeper.pid}: it is not a port-server executable`);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("exploit 2: a PID file naming someone else", () => {
  test(
    "`tail -f ~/x/src/server/main.ts`: not signalled, the stale file removed",
    async () => {
      const sb = sandbox();
      const decoyFile = join(sb.home.root, "x/src/server/main.ts");
      mkdirSync(join(sb.home.root, "x/src/server"), { recursive: true });
      writeFileSync(decoyFile, "");
      const decoy = spawnChild(["tail", "-f", decoyFile]);
      mkdirSync(sb.home.state, { recursive: true, mode: 0o700 });
      writeFileSync(join(sb.home.state, "port-server.pid"), `${decoy.pid}\n`);
      expect(await run(sb, ["stop"])).toEqual({
        code: 1,
        out: "",
        err: `port-server is not running (removed stale PID file: pid ${decoy.pid} is not port-server)\n`,
      });
      await expectUntouched(decoy);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "another registry's daemon, named by our PID file or answering on our address: never stopped",
    async () => {
      const theirs = sandbox();
      const started = await run(theirs, ["start"]);
      expect(started.code).toBe(0);
      const pid = Number(/pid (\d+)/.exec(started.out)?.[1]);

      const named = sandbox();
      mkdirSync(named.home.state, { recursive: true, mode: 0o700 });
      writeFileSync(join(named.home.state, "port-server.pid"), `${pid}\n`);
      expect(await run(named, ["stop"])).toMatchObject({ code: 1, out: "" });

      const sameAddress = sandbox(theirs.port);
      const r = await run(sameAddress, ["stop"]);
      expect(r).toEqual({
        code: 1,
        out: "",
        err: `error: refusing to stop pid ${pid}: it serves ${join(theirs.home.state, "ports.db")}, not this registry's ${join(sameAddress.home.state, "ports.db")}\n`,
      });
      expect(isAlive(pid)).toBe(true);
      expect((await run(theirs, ["health"])).code).toBe(0);
      expect(await run(theirs, ["stop"])).toEqual({
        code: 0,
        out: `port-server stopped (pid ${pid})\n`,
        err: "",
      });
    },
    TEST_TIMEOUT_MS,
  );
});

describe("exploit 3: a hostile repository", () => {
  test(
    "scan prints its service names and folder names escaped; --json keeps them exact",
    async () => {
      const sb = sandbox();
      const repo = join(sb.home.root, "repo\u001b]0;PWNED\u0007");
      mkdirSync(repo);
      writeFileSync(
        join(repo, "compose.yaml"),
        'services:\n  "web\\e]0;PWNED\\a":\n    ports: ["8080:80"]\n  "db\\e]52;c;cHduZWQ=\\a":\n    ports: ["5432:5432"]\n',
      );
      const r = await run(sb, ["scan", repo]);
      expect(r.code).toBe(0);
      expect(rawLines(r.out + r.err)).toEqual([]);
      expect(r.out).toContain("web\\x1b]0;PWNED\\x07");
      expect(r.out).toContain("db\\x1b]52;c;cHduZWQ=\\x07");
      const json = await run(sb, ["scan", "--json", repo]);
      const { findings } = JSON.parse(json.out) as { findings: { service: string }[] };
      const services = findings.map((f) => f.service);
      expect(services).toEqual(["web\u001b]0;PWNED\u0007", "db\u001b]52;c;cHduZWQ=\u0007"]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("the state folder, on the binaries", () => {
  test(
    "one daemon per folder: PORT_SERVER_ADDR naming another port gets 'already running … on'",
    async () => {
      const first = sandbox();
      const started = await run(first, ["start"]);
      expect(started.code).toBe(0);
      const pid = Number(/pid (\d+)/.exec(started.out)?.[1]);
      const second = { ...first, port: freePort() };
      second.env = { ...first.env, PORT_SERVER_ADDR: `127.0.0.1:${second.port}` };
      const line = `port-server is already running (pid ${pid}) on 127.0.0.1:${first.port}\n`;
      expect(await run(second, ["start"])).toEqual({ code: 1, out: "", err: line });
      expect(daemonPids(second.port)).toEqual([]);
      expect((await run(second, ["status"])).out).toStartWith(line);
      expect(await run(first, ["stop"])).toEqual({
        code: 0,
        out: `port-server stopped (pid ${pid})\n`,
        err: "",
      });
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a folder others may write to is refused by portctl start and by port-server itself",
    async () => {
      const sb = sandbox();
      mkdirSync(sb.home.state, { recursive: true, mode: 0o700 });
      chmodSync(sb.home.state, 0o777);
      const why = `refusing the state folder ${sb.home.state}: others may write to it (mode 0777); run: chmod 700 ${sb.home.state}`;
      expect(await run(sb, ["start"])).toEqual({ code: 1, out: "", err: `error: ${why}\n` });
      const server = await runBinary(join(dirname(portctl), "port-server"), ["--port", "0"], {
        cwd: sb.home.root,
        env: sb.env,
      });
      expect(server).toEqual({ code: 1, stdout: "", stderr: `port-server: ${why}\n` });
      expect(readdirSync(sb.home.state)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
