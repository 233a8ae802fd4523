// The binaries stand alone: copied into an empty folder, with a PATH that holds neither Bun nor
// Node, they run the daemon and every everyday command; `portctl` copied without its second
// name still starts the daemon (it runs itself as port-server) and installs the skill.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinaries } from "../helpers/binaries.ts";
import { freePort } from "../helpers/cli.ts";
import { type TempHome, tempHome } from "../helpers/daemon.ts";

let built = "";
beforeAll(async () => {
  built = await builtBinaries();
}, 120_000);

const homes: { home: TempHome; env: Record<string, string>; bin: string }[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) {
    if (existsSync(join(h.bin, "portctl"))) {
      Bun.spawnSync([join(h.bin, "portctl"), "stop"], { env: h.env, timeout: 10_000 });
    }
    h.home.cleanup();
  }
});

/** A fresh home with an empty `bin/` (the binaries to be copied in) and an empty PATH folder. */
function sandbox() {
  const home = tempHome("port-server-standalone-");
  const bin = join(home.root, "bin");
  const empty = join(home.root, "empty-path");
  const cwd = join(home.root, "shop");
  for (const dir of [bin, empty, cwd]) mkdirSync(dir);
  const env = { ...home.env, PATH: empty, PORT_SERVER_ADDR: `127.0.0.1:${freePort()}` };
  const sb = { home, env, bin };
  homes.push(sb);
  const run = (...args: string[]) => {
    const res = Bun.spawnSync([join(bin, "portctl"), ...args], { env, cwd, timeout: 20_000 });
    return {
      code: res.exitCode,
      out: res.stdout.toString().trim(),
      err: res.stderr.toString().trim(),
    };
  };
  return { ...sb, cwd, run };
}

describe("standalone binaries", () => {
  test("neither bun nor node is on PATH", () => {
    const { env } = sandbox();
    for (const tool of ["bun", "node"]) expect(Bun.which(tool, { PATH: env.PATH })).toBeNull();
  });

  test("both names copied into an empty folder run the whole everyday flow", () => {
    const sb = sandbox();
    copyFileSync(join(built, "portctl"), join(sb.bin, "portctl"));
    linkSync(join(sb.bin, "portctl"), join(sb.bin, "port-server"));

    expect(sb.run("start")).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^port-server started \(pid \d+\)$/),
    });
    const pid = Number(readFileSync(join(sb.home.state, "port-server.pid"), "utf8"));
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]).toBe(
      join(sb.bin, "port-server"),
    );

    const alloc = sb.run("allocate", "--instance", "dev", "--service", "web", "--json");
    expect(alloc.code).toBe(0);
    const { id, port } = JSON.parse(alloc.out) as { id: number; port: number };
    expect(sb.run("list").out).toContain(`shop  dev       web      ${port}`);
    expect(sb.run("check", "--port", String(port))).toMatchObject({
      code: 1,
      out: `port ${port} is allocated to shop/dev/web (id=${id})`,
    });
    expect(sb.run("release", "--id", String(id))).toMatchObject({
      code: 0,
      out: `released allocation ${id}`,
    });
    expect(sb.run("skill", "install").code).toBe(0);
    expect(existsSync(join(sb.cwd, ".claude/skills/port-manager/SKILL.md"))).toBe(true);
    expect(existsSync(join(sb.cwd, ".agents/skills/port-manager/SKILL.md"))).toBe(true);
    expect(sb.run("stop")).toMatchObject({ code: 0, out: `port-server stopped (pid ${pid})` });
  }, 60_000);

  test("portctl copied alone starts the daemon under its second name and installs the skill", () => {
    const sb = sandbox();
    copyFileSync(join(built, "portctl"), join(sb.bin, "portctl"));

    expect(sb.run("start").code).toBe(0);
    const pid = Number(readFileSync(join(sb.home.state, "port-server.pid"), "utf8"));
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]).toBe("port-server");
    expect(sb.run("health").code).toBe(0);

    const skill = sb.run("skill", "install");
    expect(skill.code).toBe(0);
    const installed = readFileSync(join(sb.cwd, ".claude/skills/port-manager/SKILL.md"), "utf8");
    expect(installed).toStartWith("---\nname: port-manager\n");
    expect(existsSync(join(sb.cwd, ".claude/skills/port-manager/references/WORKFLOW.md"))).toBe(
      true,
    );
    expect(sb.run("stop").code).toBe(0);
  }, 60_000);
});
