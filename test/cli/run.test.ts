// `portctl run` as a real process against a real daemon: a real HTTP server gets its port, the
// port is stable across runs, exit codes and signals pass through, a SIGKILL of portctl leaves
// no child behind, and a port already listening is refused before anything starts.
import { afterEach, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { treeOf } from "../../src/cli/run/tree.ts";
import { systemProbe } from "../../src/core/probe.ts";
import { type CliFixture, cliFixture, freePort, requestRecorder } from "../helpers/cli.ts";
import { stopAllDaemons } from "../helpers/daemon.ts";
import { type Run, startPortctl } from "../helpers/devservers.ts";
import { drain, isAlive, killHard, waitUntil } from "../helpers/processes.ts";

// Each test starts several real processes (portctl, a daemon, a server): 5 s is tight under load.
setDefaultTimeout(30_000);

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
const SERVER = join(import.meta.dir, "../fixtures/run/server.ts");
const INTERRUPTS = join(import.meta.dir, "../fixtures/run/interrupts.ts");

let f: CliFixture;
const started: Subprocess[] = [];
beforeEach(async () => {
  f = await cliFixture("myapp");
});
afterEach(async () => {
  for (const p of started.splice(0)) killHard(p.pid);
  await f.close();
  await stopAllDaemons();
});

/**
 * `portctl run ARGS` in its own session (no controlling terminal, as a test runner started
 * from a terminal would otherwise count as the foreground and keep SIGINT from being passed).
 */
function portctl(args: string[], env: Record<string, string> = {}, cwd = f.cwd): Run {
  const run = startPortctl(process.execPath, [MAIN, "run", ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      npm_config_update_notifier: "false",
      ...f.env,
      ...env,
    },
  });
  started.push(run.proc);
  return run;
}

test("a real HTTP server answers on the allocated port; a second run gets the same port", async () => {
  await registerWeb();
  const first = portctl(["--", process.execPath, SERVER]);
  const ready = await first.waitFor(/ready (\d+) pid (\d+)/);
  const port = Number(ready[1]);
  const [row] = await f.allocations();
  expect(row).toMatchObject({ app: "myapp", instance: "default", service: "web", port });
  // The URL through the daemon's proxy, and the port; the server got its URL as WEB_URL too.
  expect(first.err()).toBe(`myapp/default/web → ${row?.url} (port ${port})\n`);
  expect(row?.url).toMatch(/^http:\/\/web\.myapp\.localhost:\d+$/);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  expect(await res.json()).toEqual({ port, pid: Number(ready[2]) });

  // SIGTERM to portctl reaches the server, which exits 0: so does portctl.
  first.proc.kill("SIGTERM");
  expect(await first.done()).toBe(0);
  expect(first.out()).toContain("got SIGTERM");

  const second = portctl(["--", process.execPath, SERVER]);
  expect(Number((await second.waitFor(/ready (\d+)/))[1])).toBe(port);
  second.proc.kill("SIGTERM");
  expect(await second.done()).toBe(0);
  expect(await f.allocations()).toHaveLength(1);
});

test("a second run while the first still listens is refused, and starts nothing", async () => {
  await registerWeb();
  const first = portctl(["--", process.execPath, SERVER]);
  const ready = await first.waitFor(/ready (\d+) pid (\d+)/);
  const marker = join(f.home.root, "started");
  const second = portctl(["--", "sh", "-c", `touch ${marker}`]);
  expect(await second.done()).toBe(1);
  const name = readFileSync(`/proc/${ready[2]}/comm`, "utf8").trim();
  expect(second.err()).toBe(
    `error: port ${ready[1]} (myapp/default/web) is already in use by ${name} (pid ${ready[2]}) — is the dev server already running? If it is not yours: portctl release --service web --instance default, then run again for another port\n`,
  );
  expect(existsSync(marker)).toBe(false);
  first.proc.kill("SIGTERM");
  expect(await first.done()).toBe(0);
});

test("exit codes pass through: 0, 7, and 130 when SIGINT ends the child", async () => {
  expect(await portctl(["--", "sh", "-c", "exit 0"]).done()).toBe(0);
  expect(await portctl(["--", "sh", "-c", "exit 7"]).done()).toBe(7);
  const interrupted = portctl(["--", "sh", "-c", "echo ready; exec sleep 30"]);
  await interrupted.waitFor(/ready/);
  interrupted.proc.kill("SIGINT");
  expect(await interrupted.done()).toBe(130);
});

test("SIGHUP is passed on too", async () => {
  const script = `trap 'echo got HUP; exit 3' HUP; echo ready; while :; do sleep 0.05; done`;
  const hup = portctl(["--", "sh", "-c", script]);
  await hup.waitFor(/ready/);
  hup.proc.kill("SIGHUP");
  expect(await hup.done()).toBe(3);
  expect(hup.out()).toContain("got HUP");
});

// util-linux `script` gives portctl a terminal of its own; a Ctrl-C typed there reaches the whole
// foreground group, so the child must see it once, not once more from portctl.
test.skipIf(!Bun.which("script") || process.platform !== "linux")(
  "on a terminal: the child sees a TTY and one Ctrl-C once",
  async () => {
    const inner = [process.execPath, MAIN, "run", "--", process.execPath, INTERRUPTS]
      .map((w) => `'${w.replaceAll("'", `'\\''`)}'`)
      .join(" ");
    // `exec`: no shell between script(1) and portctl that a Ctrl-C could end by itself.
    const proc = Bun.spawn(["script", "-q", "-e", "-c", `exec ${inner}`, "/dev/null"], {
      cwd: f.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...f.env } as Record<string, string>,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    started.push(proc);
    const out = drain(proc.stdout);
    await waitUntil(() => out.text().includes("ready"), 10_000);
    proc.stdin.write("\u0003");
    await proc.stdin.flush();
    // script(1) ends its session when its input ends: keep it open until the child is done.
    const code = await proc.exited;
    proc.stdin.end();
    expect(code).toBe(0);
    expect(out.text()).toContain("tty yes");
    expect(out.text()).toContain("int 1");
    expect(out.text()).not.toContain("int 2");
    expect(out.text()).toContain("total 1");
  },
);

test("a SIGKILL of portctl leaves neither the child nor its children behind", async () => {
  const run = portctl(["--", "sh", "-c", "sleep 60 & echo child $$ grandchild $!; wait"]);
  const m = await run.waitFor(/child (\d+) grandchild (\d+)/);
  const pids = [Number(m[1]), Number(m[2])];
  expect(pids.map(isAlive)).toEqual([true, true]);
  run.proc.kill("SIGKILL");
  await run.done();
  await waitUntil(() => !pids.some(isAlive), 8000);
  expect(pids.map(isAlive)).toEqual([false, false]);
});

test("a SIGTERM reaches the server behind a shell that does not pass it on (npm → sh → vite)", async () => {
  await registerWeb();
  // `sh -c "server; true"` keeps sh in between, and sh dies of SIGTERM without telling it.
  const run = portctl(["--", "sh", "-c", `'${process.execPath}' '${SERVER}'; true`]);
  const ready = await run.waitFor(/ready (\d+) pid (\d+)/);
  run.proc.kill("SIGTERM");
  expect(await run.done()).toBe(143);
  await waitUntil(() => !isAlive(Number(ready[2])), 5000);
  expect(isAlive(Number(ready[2]))).toBe(false);
  expect(run.out()).toContain("got SIGTERM");
});

// Agents, task runners and IDEs stop a server by signalling portctl alone, with no terminal: sh
// (npm's `sh -c`) waits on its command and passes nothing on, so each signal must reach the
// whole tree. The server here handles none of them but SIGTERM: the default action ends it.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
  test(`no terminal: ${sig} to portctl stops the server behind sh, and frees its port`, async () => {
    const port = await registerWeb();
    const run = portctl(["--", "sh", "-c", `'${process.execPath}' '${SERVER}'; true`]);
    const ready = await run.waitFor(/ready (\d+) pid (\d+)/);
    expect(Number(ready[1])).toBe(port);
    const tree = [...treeOf([run.proc.pid]).keys()];
    expect(tree.length).toBeGreaterThanOrEqual(3); // portctl, sh, the server (and the guard)
    run.proc.kill(sig);
    await run.done();
    await waitUntil(() => !tree.some(isAlive), 3000);
    expect(tree.filter(isAlive)).toEqual([]);
    expect(systemProbe().who(port).in_use).toBe(false);
    // Stopped by the signal itself, not by the escalation after the grace period.
    expect(run.err()).not.toContain("still running");
  });
}

test("a tree that ignores every signal gets SIGTERM after the grace period, then SIGKILL", async () => {
  const run = portctl(["--", "sh", "-c", "trap '' INT TERM HUP QUIT; echo ready; sleep 60; true"]);
  await run.waitFor(/ready/);
  const tree = [...treeOf([run.proc.pid]).keys()];
  run.proc.kill("SIGINT");
  expect(await run.done()).toBe(137);
  expect(tree.filter(isAlive)).toEqual([]);
  expect(run.err()).toMatch(
    /portctl run: sh \(pid \d+\), sleep \(pid \d+\) still running 4 s after SIGINT: sending SIGTERM\n/,
  );
  expect(run.err()).toContain("still running after SIGTERM: sending SIGKILL\n");
});

test("--lease: the allocation ends with the run, also when portctl is SIGKILLed", async () => {
  const run = portctl(["--lease", "--", "sh", "-c", 'echo "port $PORT"']);
  expect(await run.done()).toBe(0);
  const port = run.out().trim().split(" ")[1];
  expect(run.err()).toMatch(
    new RegExp(
      `^myapp/default/web → http://web\\.myapp\\.localhost:\\d+ \\(port ${port}\\) \\(leased: released when this run ends\\)\n$`,
    ),
  );
  expect(await f.allocations()).toEqual([]);

  const killed = portctl(["--lease", "--", "sh", "-c", "echo ready; exec sleep 30"]);
  await killed.waitFor(/ready/);
  const [row] = await f.allocations();
  expect(row?.lease_pid).toBe(killed.proc.pid);
  killed.proc.kill("SIGKILL");
  await killed.done();
  // The daemon ends a lease whose process is gone (checked within a few seconds).
  let rows = [row];
  for (let i = 0; i < 150 && rows.length; i++) {
    await Bun.sleep(100);
    rows = await f.allocations();
  }
  expect(rows).toEqual([]);
  // Without --lease the port stays registered (the next run gets the same one).
  expect(await portctl(["--", "true"]).done()).toBe(0);
  expect(await f.allocations()).toHaveLength(1);
  // Three runs and a wait of up to 15 s for the daemon: more than bun's default 5 s under load.
}, 30_000);

test("PORT, <SERVICE>_PORT, --env and {port} carry the number", async () => {
  const script = 'echo "$PORT $API_PORT $VITE_PORT $OTHER|$1|$2"';
  const run = portctl(["--service", "api", "--env", "VITE_PORT", "--", "sh", "-c", script, "_"]);
  const [row] = (await run.done()) === 0 ? await f.allocations() : [];
  expect(row?.service).toBe("api");
  const p = row?.port;
  expect(run.out()).toBe(`${p} ${p} ${p} ||\n`);

  const sub = portctl(["--service", "api", "--", "sh", "-c", script, "_", "{port}", "x{port}y"]);
  expect(await sub.done()).toBe(0);
  expect(sub.out()).toBe(`${p} ${p}  |${p}|x${p}y\n`);
});

test("a fake vite on PATH gets --port N --strictPort, unless the user chose a port", async () => {
  const bin = fakeTools(["vite"]);
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const plain = portctl(["--", "vite"], env);
  expect(await plain.done()).toBe(0);
  const port = (await f.allocations())[0]?.port;
  expect(plain.out()).toBe(`vite --port ${port} --strictPort\n`);

  // A port of the user's is theirs: registered (the service moves to it), nothing added.
  const mine = freePort();
  const own = portctl(["--", "vite", "--port", String(mine)], env);
  expect(await own.done()).toBe(0);
  expect(own.out()).toBe(`vite --port ${mine}\n`);
  expect(own.err()).toContain(`note: myapp/default/web moved from port ${port} to ${mine}`);
  // One that is not a number portctl can read is the user's too, with a note.
  const dynamic = portctl(["--", "vite", "--port", "$P"], env);
  expect(await dynamic.done()).toBe(0);
  expect(dynamic.out()).toBe("vite --port $P\n");
  expect(dynamic.err()).toContain(
    `note: vite was given port $P; myapp/default/web is registered on ${mine}`,
  );

  const off = portctl(["--no-inject", "--", "vite", "--host"], env);
  expect(await off.done()).toBe(0);
  expect(off.out()).toBe("vite --host\n");
});

test("a port the command fixes is the one registered and announced (snag 5)", async () => {
  const bin = fakeTools(["vite"]);
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const own = freePort();
  writeFileSync(
    join(f.cwd, "package.json"),
    JSON.stringify({ scripts: { dev: `vite --port ${own}` } }),
  );
  const run = portctl(["--", "npm", "run", "dev"], env);
  expect(await run.done()).toBe(0);
  expect((await f.allocations()).map((a) => [a.service, a.port])).toEqual([["web", own]]);
  expect(run.err()).toMatch(
    new RegExp(`^myapp/default/web → http://web\\.myapp\\.localhost:\\d+ \\(port ${own}\\)\n$`),
  );
  expect(run.out()).toContain(`vite --port ${own}\n`);

  // Registered elsewhere before the script said so: the registration follows the command.
  const other = freePort();
  const moved = portctl(["--", "vite", "--port", String(other)], env);
  expect(await moved.done()).toBe(0);
  expect((await f.allocations()).map((a) => [a.service, a.port])).toEqual([["web", other]]);
  expect(moved.err()).toMatch(
    new RegExp(
      `^note: myapp/default/web moved from port ${own} to ${other}: vite is given port ${other} by the command\nmyapp/default/web → http://web\\.myapp\\.localhost:\\d+ \\(port ${other}\\)\n$`,
    ),
  );
});

test("a port the command fixes that another service holds is refused, and nothing starts", async () => {
  const bin = fakeTools(["vite"]);
  const held = await f.alloc("--service", "api", "--port", String(freePort()));
  const marker = join(f.home.root, "started");
  writeFileSync(join(bin, "vite"), `#!/bin/sh\ntouch ${marker}\n`);
  const run = portctl(["--", "vite", "--port", String(held.port)], {
    PATH: `${bin}:${process.env.PATH}`,
  });
  expect(await run.done()).toBe(1);
  expect(run.err()).toBe(
    `error: port ${held.port} is already allocated to myapp/default/api (id=${held.id}) (vite is given port ${held.port} by the command); free it, or drop the command's port\n`,
  );
  expect(existsSync(marker)).toBe(false);
  expect((await f.allocations()).map((a) => a.service)).toEqual(["api"]);
});

test("a server that listens elsewhere than the registered port is named within seconds", async () => {
  const port = await registerWeb();
  const elsewhere = freePort();
  const run = portctl([
    "--",
    "sh",
    "-c",
    `PORT=${elsewhere} '${process.execPath}' '${SERVER}'; true`,
  ]);
  const ready = await run.waitFor(/ready (\d+) pid (\d+)/);
  expect(Number(ready[1])).toBe(elsewhere);
  const warned = await run.waitFor(/warning: .*\n/, 10_000);
  const name = readFileSync(`/proc/${ready[2]}/comm`, "utf8").trim();
  expect(warned[0]).toBe(
    `warning: myapp/default/web is registered on ${port}, but the server listens on ${elsewhere} (${name}, pid ${ready[2]}): pass it the port ({port} in its arguments, or --env with its variable), or write the port in the command so run registers that one\n`,
  );
  run.proc.kill("SIGTERM");
  await run.done();
  // Once only, and never for a server on its registered port (the first tests here).
  expect(run.err().match(/warning:/g)).toHaveLength(1);
});

test("through the real npm run dev, the flag arrives after --", async () => {
  const bin = fakeTools(["vite"]);
  writeFileSync(join(f.cwd, "package.json"), JSON.stringify({ scripts: { dev: "vite --host" } }));
  const run = portctl(["--", "npm", "run", "dev"], { PATH: `${bin}:${process.env.PATH}` });
  expect(await run.done()).toBe(0);
  const port = (await f.allocations())[0]?.port;
  // npm echoes the script it runs: the flags were appended to it, so they came after `--`.
  expect(run.out()).toContain(`> vite --host --port ${port} --strictPort`);
  expect(run.out()).toContain(`vite --host --port ${port} --strictPort\n`);
});

test("scan --register and run name package.json ports alike, so run uses what scan registered (snag 6)", async () => {
  mkdirSync(join(f.cwd, ".git"));
  writeFileSync(join(f.cwd, ".git", "HEAD"), "ref: refs/heads/main\n");
  const admin = join(f.cwd, "apps", "admin");
  mkdirSync(admin, { recursive: true });
  const [top, dev, book] = [freePort(), freePort(), freePort()];
  writeFileSync(
    join(f.cwd, "package.json"),
    JSON.stringify({ scripts: { dev: `vite --port ${top}` } }),
  );
  writeFileSync(
    join(admin, "package.json"),
    JSON.stringify({
      scripts: { dev: `vite --port ${dev}`, storybook: `storybook dev -p ${book}` },
    }),
  );
  const scan = await f.run(["scan", "--register"]);
  expect(scan.code).toBe(0);
  const before = (await f.allocations()).map((a) => `${a.service}:${a.port}`).sort();
  expect(before).toEqual([`admin-storybook:${book}`, `admin:${dev}`, `web:${top}`].sort());
  const env = { PATH: `${fakeTools(["vite", "storybook"])}:${process.env.PATH}` };
  const runs = [
    portctl(["--", "npm", "run", "dev"], env),
    portctl(["--", "npm", "run", "dev"], env, admin),
    portctl(["--", "npm", "run", "storybook"], env, admin),
  ];
  for (const r of runs) expect(await r.done()).toBe(0);
  // The announced port is the registered one (the URL before it goes through the names proxy).
  expect(
    runs.map((r) =>
      r
        .err()
        .trim()
        .replace(/http:\/\/\S+ /, ""),
    ),
  ).toEqual([
    `myapp/main/web → (port ${top})`,
    `myapp/main/admin → (port ${dev})`,
    `myapp/main/admin-storybook → (port ${book})`,
  ]);
  // Nothing new, nothing moved.
  expect((await f.allocations()).map((a) => `${a.service}:${a.port}`).sort()).toEqual(before);
});

test("a monorepo package gets its folder's name as the service", async () => {
  const admin = join(f.cwd, "apps", "admin");
  mkdirSync(admin, { recursive: true });
  mkdirSync(join(f.cwd, ".git"));
  writeFileSync(join(f.cwd, ".git", "HEAD"), "ref: refs/heads/main\n");
  expect(await portctl(["--", "true"], {}, admin).done()).toBe(0);
  expect(await portctl(["--", "true"]).done()).toBe(0);
  const rows = await f.allocations();
  expect(rows.map((a) => `${a.app}/${a.instance}/${a.service}`)).toEqual([
    "myapp/main/admin",
    "myapp/main/web",
  ]);
  // Both belong to the checkout (its top folder), as `allocate` records it.
  expect(rows.map((a) => a.checkout)).toEqual([realpathSync(f.cwd), realpathSync(f.cwd)]);
});

test("daemon not running: the usual line, exit 1, nothing started", async () => {
  const recorder = requestRecorder();
  recorder.stop();
  const marker = join(f.home.root, "started");
  const run = portctl(["--", "sh", "-c", `touch ${marker}`], {
    PORT_SERVER_ADDR: `127.0.0.1:${recorder.port}`,
  });
  expect(await run.done()).toBe(1);
  expect(run.err()).toBe("error: port-server is not running — start it with: portctl start\n");
  expect(existsSync(marker)).toBe(false);
});

test("a port in the command that cannot be a port: one line, exit 1, nothing allocated", async () => {
  const run = portctl(["--", "sh", "-c", "true"], {});
  expect(await run.done()).toBe(0);
  const before = await f.allocations();
  const bad = portctl(["--", "vite", "--port", "99999"], {
    PATH: `${fakeTools(["vite"])}:${process.env.PATH}`,
  });
  expect(await bad.done()).toBe(1);
  expect(bad.err()).toBe(
    "error: vite is given port 99999 by the command, which is not a port (1-65535)\n",
  );
  expect(bad.out()).toBe("");
  expect(await f.allocations()).toEqual(before);
});

test("a command that does not exist: one line, 127, nothing allocated", async () => {
  const run = portctl(["--", "no-such-dev-server-here"]);
  expect(await run.done()).toBe(127);
  expect(run.err()).toBe("error: cannot run no-such-dev-server-here: command not found\n");
  expect(await f.allocations()).toEqual([]);
});

// --- internal ---

/**
 * Registers `web` on a port the kernel just handed out: on a shared machine another test's
 * server may take the range's first port between our check and the child's bind.
 */
async function registerWeb(): Promise<number> {
  return (await f.alloc("--service", "web", "--port", String(freePort()))).port;
}

/** Executables that print their name and argv on one line, in a fresh folder. */
function fakeTools(names: string[]): string {
  const bin = join(f.home.root, "fakebin");
  mkdirSync(bin, { recursive: true });
  for (const name of names) {
    const path = join(bin, name);
    writeFileSync(path, `#!/bin/sh\necho "${name} $*"\n`);
    chmodSync(path, 0o755);
  }
  return bin;
}
