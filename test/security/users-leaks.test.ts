// What one user must not learn of another's (#28), on the two paths that listed everybody's:
// `GET /v1/sessions` (session ids), and the names proxy's own pages (the index at `localhost`
// and the unknown-name page list names, made of app and service). The daemon runs as this
// test's user, "alice"; "bob" is a real user made for the test, his requests sent by curl run
// as him, so the kernel says who asks. Skipped where no second user can be made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Allocation } from "../../src/core/model.ts";
import { type Daemon, startDaemon, type TempHome, tempHome } from "../helpers/daemon.ts";
import { canMakeUsers, makeUser, type TestUser } from "../helpers/users.ts";

const SECRET_APP = "secret-proj";
const SECRET_SESSION = "alice-secret-session-7f3a";

let bob: TestUser;
let daemon: Daemon;
let home: TempHome;
let proxyPort: number;

describe.skipIf(!canMakeUsers())("what bob learns of alice's", () => {
  beforeAll(async () => {
    bob = makeUser();
    home = tempHome("port-server-leaks-");
    daemon = await startDaemon({ home });
    const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as {
      proxy: { port: number };
    };
    proxyPort = health.proxy.port;
    // Alice: an HTTP service (a name the proxy serves) held by an agent session.
    await api("POST", "/v1/allocations", {
      app: SECRET_APP,
      instance: "main",
      service: "web",
      http: true,
      lease_session: SECRET_SESSION,
    });
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    bob?.remove();
    home?.cleanup();
  });

  const asBob = async (args: string[]) => {
    const r = await bob.run(["curl", "-s", ...args]);
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const bobJson = async (method: string, path: string, body?: unknown) =>
    JSON.parse(
      await asBob([
        "-X",
        method,
        ...(body === undefined
          ? []
          : ["-H", "Content-Type: application/json", "-d", JSON.stringify(body)]),
        `${daemon.url}${path}`,
      ]),
    );

  test("GET /v1/sessions: bob sees his own sessions, never alice's ids; alice sees his, saying whose", async () => {
    const mine = await bobJson("POST", "/v1/allocations", {
      app: "bobs",
      instance: "main",
      service: "web",
      lease_session: "bob-session",
    });
    expect(mine.lease_session).toBe("bob-session");
    const listed = await asBob([`${daemon.url}/v1/sessions`]);
    expect(listed).not.toContain(SECRET_SESSION);
    const sessions = JSON.parse(listed) as { id: string; owner?: string }[];
    expect(sessions.map((s) => s.id)).toEqual(["bob-session"]);
    expect(sessions[0]?.owner).toBeUndefined();
    // The registry's own user sees every session, another user's with its owner.
    const all = (await api("GET", "/v1/sessions")) as { id: string; owner?: string }[];
    expect(all.map((s) => [s.id, s.owner])).toEqual([
      [SECRET_SESSION, undefined],
      ["bob-session", bob.name],
    ]);
  });

  test("bob ending a session of alice's id ends his own (none), never hers", async () => {
    const ended = await bobJson("DELETE", `/v1/sessions/${SECRET_SESSION}`);
    expect(ended).toEqual({ released: [] });
    const all = (await api("GET", "/v1/sessions")) as { id: string; allocations: unknown[] }[];
    expect(all.find((s) => s.id === SECRET_SESSION)?.allocations).toHaveLength(1);
  });

  test("the proxy's index lists bob's own names only; alice's index lists hers", async () => {
    await bobJson("POST", "/v1/allocations", {
      app: "bobs",
      instance: "main",
      service: "api",
      http: true,
    });
    const page = await asBob(["-H", "Host: localhost", `http://127.0.0.1:${proxyPort}/`]);
    expect(page).toContain("api.bobs.");
    expect(page).not.toContain(SECRET_APP);
    const hers = await (
      await fetch(`http://127.0.0.1:${proxyPort}/`, { headers: { Host: "localhost" } })
    ).text();
    expect(hers).toContain(`web.${SECRET_APP}.localhost`);
    expect(hers).not.toContain("api.bobs.");
  });

  test("the proxy's unknown-name page never lists alice's names to bob", async () => {
    const page = await asBob([
      "-H",
      `Host: nothing.${SECRET_APP}.localhost`,
      `http://127.0.0.1:${proxyPort}/`,
    ]);
    expect(page).toContain("No service is named");
    expect(page).not.toContain(`web.${SECRET_APP}.localhost`);
    // Her own unknown name lists her app's names to her.
    const hers = await (
      await fetch(`http://127.0.0.1:${proxyPort}/`, {
        headers: { Host: `nothing.${SECRET_APP}.localhost` },
      })
    ).text();
    expect(hers).toContain(`web.${SECRET_APP}.localhost`);
  });

  test("a name of alice's is still served to bob by name: a port anyone may connect to", async () => {
    // No upstream listens: the proxy's 502 page, reached through alice's name (no listing).
    const rows = (await api("GET", `/v1/allocations?app=${SECRET_APP}`)) as Allocation[];
    expect(rows).toHaveLength(1);
    const status = await asBob([
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      `Host: web.${SECRET_APP}.localhost`,
      `http://127.0.0.1:${proxyPort}/`,
    ]);
    expect(status).toBe("502");
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
