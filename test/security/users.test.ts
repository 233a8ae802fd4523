// One registry, two real users (#28). The daemon runs as this test's user (root here and in CI),
// "alice"; a user made for the test, "bob", runs the compiled portctl through setpriv, over TCP
// and over the Unix socket. Every answer is attributed by the kernel: bob sees alice's
// allocations as a port and `another user (root)`, changes none of them, and nothing he sends
// (a header, a body field) makes him anyone else. Skipped where no second user can be made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Allocation, PortEvent } from "../../src/core/model.ts";
import { builtBinaries } from "../helpers/binaries.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import {
  canMakeUsers,
  makeUser,
  type Run,
  shareExecutable,
  type TestUser,
} from "../helpers/users.ts";

const ADMIN = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
const SECRET = "secret-proj";
const SECRET_CHECKOUT = "/home/alice/secret-proj";

let bob: TestUser;
let daemon: Daemon;
let home: TempHome;
let socketDir: string;
let portctl: { path: string; remove(): void };

describe.skipIf(!canMakeUsers())("two users, one registry", () => {
  beforeAll(async () => {
    bob = makeUser();
    home = tempHome("port-server-users-");
    // Where a system service's socket lives: a folder of the daemon's, open to everyone.
    socketDir = mkdtempSync(join(tmpdir(), "port-server-sock-"));
    chmodSync(socketDir, 0o755);
    daemon = await startDaemon({ home, args: ["--socket", join(socketDir, "port-server.sock")] });
    portctl = shareExecutable(join(await builtBinaries(), "portctl"));
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    bob?.remove();
    home?.cleanup();
    portctl?.remove();
    rmSync(socketDir, { recursive: true, force: true });
  });

  for (const via of ["tcp", "socket"] as const) {
    describe(`bob over ${via}`, () => {
      const addr = () =>
        via === "tcp" ? `127.0.0.1:${daemon.port}` : `unix:${join(socketDir, "port-server.sock")}`;
      const asBob = (args: string[]): Promise<Run> =>
        bob.run([portctl.path, ...args], { env: { PORT_SERVER_ADDR: addr(), NO_COLOR: "1" } });
      let secret: Allocation;

      beforeAll(async () => {
        secret = await allocateAsAlice(`${SECRET}-${via}`, "web");
      });

      test("list --all -l shows alice's allocation as its port and another user, nothing more", async () => {
        const json = await asBob(["list", "--all", "-l", "--json"]);
        expect(json.code).toBe(0);
        const rows = JSON.parse(json.stdout) as Allocation[];
        const theirs = rows.find((r) => r.port === secret.port);
        expect(theirs).toEqual({
          id: secret.id,
          app: "",
          instance: "",
          service: "",
          port: secret.port,
          created_at: secret.created_at,
          checkout: null,
          last_seen: null,
          lease_pid: null,
          lease_started_at: null,
          lease_session: null,
          block_id: null,
          name: "",
          url: null,
          owner: ADMIN,
          hidden: true,
        });
        const text = await asBob(["list", "--all", "-l"]);
        expect(text.code).toBe(0);
        expect(text.stdout).toContain(`another user (${ADMIN})`);
        expect(text.stdout).toContain(String(secret.port));
        expect(text.stdout + json.stdout).not.toContain(SECRET);
        // An export holds only what an import could take back: bob's own rows.
        const exported = await asBob(["export", "--all"]);
        expect(exported.code).toBe(0);
        expect(
          (JSON.parse(exported.stdout) as Allocation[]).some((r) => r.port === secret.port),
        ).toBe(false);
        // By name, another user's rows do not match at all: a filter cannot probe them.
        const byName = await asBob(["list", "--app", `${SECRET}-${via}`, "--json"]);
        expect(JSON.parse(byName.stdout)).toEqual([]);
      });

      test("release by id: refused with the owner's name, nothing changes", async () => {
        const before = await aliceRows();
        const r = await asBob(["release", "--id", String(secret.id)]);
        expect(r.code).toBe(1);
        expect(r.stderr.trim().split("\n")).toEqual([
          expect.stringContaining(
            `port ${secret.port} belongs to user ${ADMIN}, not to you (${bob.name})`,
          ),
        ]);
        expect(await aliceRows()).toEqual(before);
      });

      test("the same app/instance/service is bob's own: another port, a name with his label; by name he reaches only his", async () => {
        const before = await aliceRows();
        const app = `${SECRET}-${via}`;
        const names = ["--app", app, "--instance", "main", "--service", "web"];
        // Two clones of one repository: both are app/main/web, each user's own.
        const reuse = await asBob(["allocate", ...names, "--reuse", "--json"]);
        expect(reuse.code).toBe(0);
        const his = JSON.parse(reuse.stdout) as Allocation;
        expect(his).toMatchObject({ app, instance: "main", service: "web" });
        expect(his.owner).toBeUndefined();
        expect(his.port).not.toBe(secret.port);
        expect(his.name).toBe(`web.${app}.${bob.name}.localhost`);
        // Asked again, his own comes back: the same port.
        const again = JSON.parse((await asBob(["allocate", ...names, "--reuse", "--json"])).stdout);
        expect(again.port).toBe(his.port);
        // Without --reuse it is his own that is already allocated, not alice's.
        const twice = await asBob(["allocate", ...names]);
        expect(twice.code).toBe(1);
        expect(twice.stderr).toContain(`${app}/main/web`);
        expect(twice.stderr).not.toContain("another user");
        // env, list and release by name: his rows, never hers.
        const env = await asBob(["env", "--app", app, "--instance", "main"]);
        expect(env.stdout).toContain(`WEB_PORT=${his.port}`);
        expect(env.stdout).not.toContain(String(secret.port));
        const listed = JSON.parse((await asBob(["list", "--app", app, "--json"])).stdout);
        expect(listed.map((r: Allocation) => r.port)).toEqual([his.port]);
        const history = JSON.parse((await asBob(["history", "--app", app, "--json"])).stdout);
        expect(history.length).toBeGreaterThan(0);
        for (const e of history as PortEvent[]) {
          expect(e.owner).toBeUndefined();
          expect(e.port).toBe(his.port);
        }
        const released = await asBob(["release", "--app", app]);
        expect(released.code).toBe(0);
        expect(released.stdout).toContain("released 1 allocation");
        expect(await aliceRows()).toEqual(before);
        // Alice, the registry's own user, by name reaches her own too: bob's app is not hers.
        const hisAgain = JSON.parse((await asBob(["allocate", ...names, "--json"])).stdout);
        const aliceList = (await api("GET", `/v1/allocations?app=${app}`)) as Allocation[];
        expect(aliceList.map((r) => r.port)).toEqual([secret.port]);
        expect(await asBob(["release", "--id", String(hisAgain.id)])).toMatchObject({ code: 0 });
      });

      test("check and a 409 name another user, never the app, instance, service or checkout", async () => {
        const check = await asBob(["check", "--port", String(secret.port)]);
        expect(check.code).toBe(1);
        expect(check.stdout.trim()).toBe(
          `port ${secret.port} is allocated to another user (${ADMIN})`,
        );
        const claim = await asBob([
          "allocate",
          "--app",
          `bob-${via}`,
          "--instance",
          "main",
          "--service",
          "web",
          "--port",
          String(secret.port),
          "--json",
        ]);
        expect(claim.code).toBe(1);
        const body = JSON.parse(claim.stdout);
        expect(body.code).toBe("port_allocated");
        expect(body.holder).toMatchObject({
          port: secret.port,
          hidden: true,
          owner: ADMIN,
          app: "",
        });
        expect(claim.stdout + claim.stderr + check.stdout).not.toContain(SECRET);
      });

      test("bob's own allocations are his: allocated, listed whole, released; the port is never alice's", async () => {
        const own = await asBob([
          "allocate",
          "--app",
          `bob-${via}`,
          "--instance",
          "main",
          "--service",
          "api",
          "--json",
        ]);
        expect(own.code).toBe(0);
        const mine = JSON.parse(own.stdout) as Allocation;
        expect(mine.owner).toBeUndefined();
        expect((await aliceRows()).map((r) => r.port)).not.toContain(undefined);
        // Alice, the registry's own user, sees it whole and whose it is.
        const seen = (await api("GET", "/v1/allocations")) as Allocation[];
        expect(seen.find((r) => r.id === mine.id)).toMatchObject({
          app: `bob-${via}`,
          owner: bob.name,
        });
        expect(seen.filter((r) => r.port === mine.port)).toHaveLength(1);
        const released = await asBob(["release", "--id", String(mine.id)]);
        expect(released.code).toBe(0);
      });

      test("history shows alice's events as a port and another user", async () => {
        const r = await asBob(["history", "--port", String(secret.port), "--json"]);
        expect(r.code).toBe(0);
        const events = JSON.parse(r.stdout) as PortEvent[];
        expect(events.length).toBeGreaterThan(0);
        for (const e of events) {
          expect(e).toMatchObject({
            hidden: true,
            owner: ADMIN,
            app: "",
            checkout: null,
            reason: "",
          });
        }
      });

      test("prune and import change only bob's own rows", async () => {
        const before = await aliceRows();
        const prune = await asBob(["prune", "--yes", "--json"]);
        expect(prune.code).toBe(0);
        expect(JSON.parse(prune.stdout).candidates).toEqual([]);
        // Alice's rows (her checkout is gone: her own prune would take it) stay.
        expect(await aliceRows()).toEqual(before);
        // An export naming alice's port: refused whole, her row named by its owner only.
        const file = join(bob.home, `import-${via}.json`);
        const row = {
          app: `bob-${via}`,
          instance: "imp",
          service: "web",
          port: secret.port,
          created_at: "2025-01-01T00:00:00Z",
        };
        const free = { ...row, service: "api", port: 0 };
        await Bun.write(file, JSON.stringify([row]));
        chownSync(file, bob.uid, bob.gid);
        const clash = await asBob(["import", file]);
        expect(clash.code).toBe(1);
        expect(clash.stderr).toContain(
          `port ${secret.port} is allocated to another user (${ADMIN})`,
        );
        expect(clash.stderr).not.toContain(SECRET);
        expect(await aliceRows()).toEqual(before);
        // One that conflicts with nothing becomes bob's.
        const port = Number(
          (
            await asBob(["allocate", "--app", `bob-${via}`, "--service", "probe", "--json"])
          ).stdout.match(/"port": (\d+)/)?.[1],
        );
        await asBob(["release", "--app", `bob-${via}`]);
        await Bun.write(file, JSON.stringify([{ ...free, port }]));
        const ok = await asBob(["import", file, "--json"]);
        expect(ok.code).toBe(0);
        const imported = JSON.parse(ok.stdout).imported as Allocation[];
        expect(imported).toMatchObject([{ port, app: `bob-${via}` }]);
        expect(imported[0]?.owner).toBeUndefined();
        const seen = (await api("GET", "/v1/allocations")) as Allocation[];
        expect(seen.find((r) => r.port === port)?.owner).toBe(bob.name);
      });
    });
  }

  test("start, status, doctor and stop name the other user's registry; none starts or stops one", async () => {
    const env = { PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}`, NO_COLOR: "1" };
    const run = (args: string[]) => bob.run([portctl.path, ...args], { env });
    const line = `port-server of user ${ADMIN} is running on 127.0.0.1:${daemon.port}; your allocations go there`;
    const start = await run(["start"]);
    expect({ code: start.code, err: start.stderr.trim() }).toEqual({ code: 1, err: line });
    const status = await run(["status"]);
    expect(status.stdout.split("\n")[0]).toBe(line);
    const json = JSON.parse((await run(["status", "--json"])).stdout);
    expect(json.other_user).toEqual({ pid: daemon.pid, uid: 0, user: ADMIN });
    const doctor = await run(["doctor"]);
    expect(doctor.stdout).toContain(`daemon: ${line}`);
    expect(doctor.stdout).not.toContain("not a port-server executable");
    const stop = await run(["stop"]);
    expect({ code: stop.code, err: stop.stderr.trim() }).toEqual({
      code: 1,
      err: `error: ${line}; it is not yours to stop`,
    });
    expect(daemon.proc.exitCode).toBeNull();
  });

  test("a header or a body field claiming another uid changes nothing", async () => {
    const secret = await allocateAsAlice(`${SECRET}-spoof`, "web");
    const before = await aliceRows();
    const url = `http://127.0.0.1:${daemon.port}`;
    const headers = [
      "-H",
      "X-Uid: 0",
      "-H",
      "X-User: root",
      "-H",
      `X-Forwarded-User: ${ADMIN}`,
      "-H",
      "X-Remote-User: root",
      "-H",
      "X-Client-Pid: 1",
    ];
    const curl = (args: string[]) => bob.run(["curl", "-s", ...headers, ...args]);
    const del = await curl(["-X", "DELETE", `${url}/v1/allocations/${secret.id}`]);
    expect(JSON.parse(del.stdout)).toMatchObject({
      code: "not_yours",
      owner: ADMIN,
      port: secret.port,
    });
    const body = await curl([
      "-X",
      "POST",
      "-H",
      "Content-Type: application/json",
      `${url}/v1/allocations?reuse=true`,
      "-d",
      JSON.stringify({ app: `${SECRET}-spoof`, instance: "main", service: "web", owner_uid: 0 }),
    ]);
    expect(JSON.parse(body.stdout)).toMatchObject({ code: "bad_request" });
    const reuse = await curl([
      "-X",
      "POST",
      "-H",
      "Content-Type: application/json",
      `${url}/v1/allocations?reuse=true`,
      "-d",
      JSON.stringify({ app: `${SECRET}-spoof`, instance: "main", service: "web" }),
    ]);
    // Alice's names are not bob's: a reuse of them is his own new allocation, on another port.
    const his = JSON.parse(reuse.stdout) as Allocation;
    expect(his).toMatchObject({ app: `${SECRET}-spoof`, instance: "main", service: "web" });
    expect(his.port).not.toBe(secret.port);
    expect(his.owner).toBeUndefined();
    const seen = (await api("GET", "/v1/allocations")) as Allocation[];
    expect(seen.find((r) => r.id === his.id)?.owner).toBe(bob.name);
    const list = await curl([`${url}/v1/allocations?owner=root`]);
    expect(JSON.parse(list.stdout)).toMatchObject({ code: "bad_request" });
    expect(await aliceRows()).toEqual(before);
  });

  test("on one keep-alive connection every request is still bob's (looked up once, then by its socket)", async () => {
    const secret = await allocateAsAlice(`${SECRET}-keepalive`, "web");
    const url = `http://127.0.0.1:${daemon.port}/v1/allocations/${secret.id}`;
    const run = await bob.run([
      "curl",
      "-s",
      "-X",
      "DELETE",
      "-w",
      "%{http_code} %{num_connects}\\n",
      "-o",
      "/dev/null",
      url,
      "-o",
      "/dev/null",
      url,
      "-o",
      "/dev/null",
      url,
      "-o",
      "/dev/null",
      url,
    ]);
    // Four answers, one connection: 403 each time.
    expect(run.stdout.trim().split("\n")).toEqual(["403 1", "403 0", "403 0", "403 0"]);
    expect((await aliceRows()).some((r) => r.id === secret.id)).toBe(true);
  });

  test("Compose project names: alice's is passed by, never shown, released or forced by bob", async () => {
    const claim = { app: "secret-proj", instance: "main", checkout: SECRET_CHECKOUT };
    const mine = (await api("POST", "/v1/projects", { ...claim, name: "secret-proj" })) as {
      id: number;
      name: string;
    };
    expect(mine.name).toBe("secret-proj");
    const url = `http://127.0.0.1:${daemon.port}/v1/projects`;
    const json = ["-H", "Content-Type: application/json"];
    const bobs = { app: "bobs", instance: "main", checkout: "/home/bob/secret-proj" };
    const asBob = async (args: string[]) =>
      JSON.parse((await bob.run(["curl", "-s", ...args])).stdout);
    // A natural name alice holds: bob's stack gets another one.
    const natural = await asBob([
      "-X",
      "POST",
      ...json,
      url,
      "-d",
      JSON.stringify({ ...bobs, name: "secret-proj" }),
    ]);
    // The Docker Engine is one per host, so is the name: his carries his user name.
    expect(natural.name).toBe(`secret-proj-${bob.name}`);
    expect(natural.owner).toBeUndefined();
    // The same name asked explicitly: taken, by another user, no path; forced: refused.
    const explicit = { ...bobs, checkout: "/home/bob/other", name: "secret-proj", explicit: true };
    const taken = await asBob(["-X", "POST", ...json, url, "-d", JSON.stringify(explicit)]);
    expect(taken.code).toBe("project_taken");
    expect(JSON.stringify(taken)).not.toContain(SECRET_CHECKOUT);
    const forced = await asBob([
      "-X",
      "POST",
      ...json,
      url,
      "-d",
      JSON.stringify({ ...explicit, force: true }),
    ]);
    expect(forced).toMatchObject({ code: "not_yours", owner: ADMIN });
    // A checkout both may enter: its stack's name is alice's, refused to bob, nothing shown.
    const shared = await asBob([
      "-X",
      "POST",
      ...json,
      url,
      "-d",
      JSON.stringify({ ...claim, name: "secret-proj" }),
    ]);
    expect(shared).toMatchObject({ code: "not_yours", owner: ADMIN });
    expect(JSON.stringify(shared)).not.toContain(SECRET_CHECKOUT);
    const released = await asBob(["-X", "DELETE", `${url}/${mine.id}`]);
    expect(released).toMatchObject({ code: "not_yours", owner: ADMIN });
    const listed = (await asBob([url])) as { id: number; hidden?: boolean; checkout: string }[];
    expect(listed.find((p) => p.id === mine.id)).toMatchObject({
      hidden: true,
      checkout: "",
      owner: ADMIN,
    });
    expect(await asBob([`${url}?name=secret-proj`])).toEqual([]);
    const still = (await api("GET", "/v1/projects?name=secret-proj")) as { checkout: string }[];
    expect(still).toMatchObject([{ checkout: SECRET_CHECKOUT }]);
  });

  test("alice, the registry's own user, may release bob's allocation; the history says whose", async () => {
    const own = await bob.run(
      [
        portctl.path,
        "allocate",
        "--app",
        "bob-admin",
        "--instance",
        "main",
        "--service",
        "web",
        "--json",
      ],
      { env: { PORT_SERVER_ADDR: `127.0.0.1:${daemon.port}` } },
    );
    const mine = JSON.parse(own.stdout) as Allocation;
    expect(await api("DELETE", `/v1/allocations/${mine.id}`)).toEqual({ status: "deleted" });
    const events = (await api("GET", `/v1/events?port=${mine.port}`)) as PortEvent[];
    expect(events[0]).toMatchObject({
      kind: "released",
      owner: bob.name,
      reason: `released by id (of user ${bob.name}, by ${ADMIN})`,
    });
  });
});

// --- internal ---

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

async function allocateAsAlice(app: string, service: string): Promise<Allocation> {
  return (await api("POST", "/v1/allocations", {
    app,
    instance: "main",
    service,
    checkout: SECRET_CHECKOUT,
  })) as Allocation;
}

/** Every row the registry holds that is alice's (no owner field: her own). */
async function aliceRows(): Promise<Allocation[]> {
  return ((await api("GET", "/v1/allocations")) as Allocation[]).filter((r) => !r.owner);
}
