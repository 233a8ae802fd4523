// The load generator: N concurrent keep-alive request loops for a fixed time. `wrk` when it is
// installed (a C client leaves more of a 2-core machine to the server); otherwise fetch loops
// in this process. Both servers of a comparison always get the same client.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./procs.ts";

export type Client = "wrk" | "fetch";
/** `get`: GET /v1/ports/<port>. `allocate`: POST /v1/allocations, auto-assign, unique names. */
export type LoadKind = "get" | "allocate";

export interface LoadSpec {
  base: string;
  kind: LoadKind;
  /** The port GET asks about. */
  port?: number;
  /** Makes service names unique across runs against one database. */
  tag: string;
  connections: number;
  seconds: number;
  client: Client;
}

export interface LoadResult {
  /** 2xx responses. */
  ok: number;
  /** Non-2xx responses and socket errors. */
  errors: number;
  seconds: number;
  /** Successful requests per second. */
  rps: number;
}

export function defaultClient(): Client {
  return Bun.which("wrk") ? "wrk" : "fetch";
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return spec.client === "wrk" ? wrkLoad(spec) : fetchLoad(spec);
}

/** Exactly `count` auto-assign POSTs over `connections` concurrent loops (fetch). */
export async function allocateMany(
  base: string,
  count: number,
  connections: number,
  tag: string,
): Promise<LoadResult> {
  let next = 0;
  let ok = 0;
  let errors = 0;
  const start = performance.now();
  const loop = async (loopNo: number) => {
    for (let n = next++; n < count; n = next++) {
      const res = await fetch(`${base}/v1/allocations`, allocateInit(tag, loopNo, n));
      await res.arrayBuffer();
      if (res.ok) ok++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
  const seconds = (performance.now() - start) / 1000;
  return { ok, errors, seconds, rps: ok / seconds };
}

/** Request options for one auto-assign POST with a name no other request uses. */
export function allocateInit(tag: string, loopNo: number, n: number, app = LOAD_APP): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ app, instance: `${tag}-${loopNo}`, service: `s${n}` }),
  };
}

/** The app of every allocation a load makes: released between windows by `releaseLoad`. */
export const LOAD_APP = "bench-load";

/** Releases what the loads allocated, so that no window runs out of ports. */
export async function releaseLoad(base: string): Promise<number> {
  const res = await fetch(`${base}/v1/allocations`, {
    method: "DELETE",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ app: LOAD_APP }),
  });
  if (!res.ok) throw new Error(`releasing the load's allocations gave ${res.status}`);
  return ((await res.json()) as { deleted: number }).deleted;
}

// --- internal ---

async function fetchLoad(spec: LoadSpec): Promise<LoadResult> {
  const url =
    spec.kind === "get" ? `${spec.base}/v1/ports/${spec.port}` : `${spec.base}/v1/allocations`;
  let ok = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + spec.seconds * 1000;
  const loop = async (loopNo: number) => {
    for (let n = 0; performance.now() < deadline; n++) {
      try {
        const res = await fetch(url, spec.kind === "get" ? {} : allocateInit(spec.tag, loopNo, n));
        await res.arrayBuffer();
        if (res.ok) ok++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, i) => loop(i)));
  const seconds = (performance.now() - start) / 1000;
  return { ok, errors, seconds, rps: ok / seconds };
}

async function wrkLoad(spec: LoadSpec): Promise<LoadResult> {
  const url =
    spec.kind === "get" ? `${spec.base}/v1/ports/${spec.port}` : `${spec.base}/v1/allocations`;
  // One thread: the server's JavaScript runs on one core, wrk gets the other.
  const args = ["wrk", "-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--timeout", "10s"];
  if (spec.kind === "allocate") args.push("-s", luaScript());
  args.push(url, "--", spec.tag);
  const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`wrk exited ${code}: ${err.trim() || out.trim()}`);
  return parseWrk(out);
}

function parseWrk(out: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(out);
  if (!total) throw new Error(`cannot read wrk's output: ${out}`);
  const scale = { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[total[3] as "us" | "ms" | "s" | "m"];
  const seconds = Number(total[2]) * scale;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((sum, v) => sum + Number(v), 0) : 0;
  const ok = Number(total[1]) - non2xx;
  return { ok, errors: non2xx + socketErrors, seconds, rps: ok / seconds };
}

let scriptPath: string | undefined;

/** wrk's per-request hook: unique service names per thread and run (the run tag is args[1]). */
function luaScript(): string {
  if (!scriptPath || !existsSync(scriptPath)) {
    scriptPath = join(tempDir("wrk"), "allocate.lua");
    writeFileSync(scriptPath, LUA);
  }
  return scriptPath;
}

const LUA = `
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end
function init(args)
  tag = args[1] or "run"
  n = 0
end
function request()
  n = n + 1
  local body = string.format('{"app":"${LOAD_APP}","instance":"%s-%d","service":"s%d"}', tag, thread_no, n)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
`;
