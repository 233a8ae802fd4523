// 9. The names proxy: the same dev server (node:http, bench/proxy-upstream.mjs) asked directly
// and through the daemon's proxy by its name, in alternating windows of one run (ABBA): small
// responses' req/s (wrk, 32 connections), median latency of one connection (wrk --latency), a
// 100 MB download's throughput (curl), and the daemon's RSS before and after all of it plus a
// 1 GB upload streamed through it (whose bytes must not sit in the daemon's memory).
import { connect } from "node:net";
import { join } from "node:path";
import { cpuSeconds, memory, ROOT, type Server, startDaemon, trackPid } from "./lib/procs.ts";
import type { Benchmark, Options, Row } from "./lib/report.ts";
import { median } from "./lib/stats.ts";

export const proxyBench: Benchmark = {
  name: "proxy",
  title: "Names proxy: through the proxy vs direct to the same dev server",
  async run(opts: Options): Promise<Row[]> {
    if (!Bun.which("wrk")) {
      opts.log("  skipped: the proxy benchmark needs wrk (apt-get install wrk)");
      return [];
    }
    const daemon = await startDaemon();
    const upstream = await startUpstream();
    try {
      return await measure(daemon, upstream.port, upstream.proc.pid, opts);
    } finally {
      upstream.proc.kill("SIGKILL");
      await daemon.stop();
    }
  },
};

// --- internal ---

const MB = 1e6;

async function measure(
  daemon: Server,
  port: number,
  upstreamPid: number,
  opts: Options,
): Promise<Row[]> {
  const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as {
    proxy: { port: number };
  };
  const proxyPort = health.proxy.port;
  const reg = await fetch(`${daemon.url}/v1/allocations?adopt=true`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ app: "bench", instance: "main", service: "web", port, http: true }),
  });
  if (!reg.ok) throw new Error(`registering the dev server gave ${reg.status}`);
  const name = ((await reg.json()) as { name: string }).name;
  const direct: Target = { url: `http://127.0.0.1:${port}` };
  const proxied: Target = { url: `http://127.0.0.1:${proxyPort}`, host: `${name}:${proxyPort}` };

  await wrk(proxied, "/", 32, 1); // warm-up: JIT, connections
  await Bun.sleep(1000);
  const rssBefore = memory(daemon.pid).rss / MB;
  const rounds = opts.quick ? 2 : 4;
  const seconds = opts.quick ? 2 : 3;
  const rps = { direct: [] as number[], proxied: [] as number[] };
  const p50 = { direct: [] as number[], proxied: [] as number[] };
  const mbps = { direct: [] as number[], proxied: [] as number[] };
  const cpuPerRequest = { direct: [] as number[], proxied: [] as number[] };
  const daemonMsPerGb: number[] = [];
  const downloadMb = opts.quick ? 30 : 100;
  for (let r = 0; r < rounds; r++) {
    // ABBA: each side goes first in half of the rounds.
    for (const side of r % 2 === 0
      ? (["direct", "proxied"] as const)
      : (["proxied", "direct"] as const)) {
      const target = side === "direct" ? direct : proxied;
      // CPU per request, which the machine's other load does not change much: the daemon's
      // through the proxy, the dev server's own when asked directly.
      const pid = side === "direct" ? upstreamPid : daemon.pid;
      const cpu0 = cpuSeconds(pid);
      const run = await wrk(target, "/", 32, seconds);
      rps[side].push(run.rps);
      cpuPerRequest[side].push(((cpuSeconds(pid) - cpu0) / run.requests) * 1e6);
      p50[side].push((await wrk(target, "/", 1, seconds)).p50Ms);
      const cpu1 = cpuSeconds(daemon.pid);
      mbps[side].push(await download(target, downloadMb));
      if (side === "proxied")
        daemonMsPerGb.push(((cpuSeconds(daemon.pid) - cpu1) * 1e3 * 1000) / downloadMb);
    }
  }
  const uploadMb = opts.quick ? 256 : 1024;
  const upload = await uploadThrough(proxyPort, name, uploadMb * 1024 * 1024, daemon.pid);
  await Bun.sleep(1000);
  const rssAfter = memory(daemon.pid).rss / MB;
  const m = (v: number[]) => median(v);
  opts.log(`  req/s    direct ${fmtAll(rps.direct)}; proxied ${fmtAll(rps.proxied)}`);
  opts.log(
    `  CPU µs/request  dev server direct ${fmtAll(cpuPerRequest.direct, 1)}; daemon proxied ${fmtAll(cpuPerRequest.proxied, 1)}`,
  );
  opts.log(`  p50 ms   direct ${fmtAll(p50.direct, 3)}; proxied ${fmtAll(p50.proxied, 3)}`);
  opts.log(
    `  MB/s     direct ${fmtAll(mbps.direct)}; proxied ${fmtAll(mbps.proxied)} (${downloadMb} MB)`,
  );
  opts.log(
    `  upload   ${uploadMb} MB through the proxy at ${upload.mbps.toFixed(0)} MB/s; daemon peak RSS during it ${upload.peakMb.toFixed(1)} MB`,
  );
  opts.log(`  RSS      ${rssBefore.toFixed(1)} MB before, ${rssAfter.toFixed(1)} MB after`);
  return [
    {
      benchmark: "proxy",
      figure: "req/s, small responses, through the proxy",
      value: m(rps.proxied),
      unit: "req/s",
      reference: { label: "direct", value: m(rps.direct) },
      target: { on: "ratio", op: ">=", limit: 0.8 },
      notes: [
        `CPU per request: the daemon's through the proxy ${m(cpuPerRequest.proxied).toFixed(1)} µs, the dev server's own (direct) ${m(cpuPerRequest.direct).toFixed(1)} µs`,
      ],
    },
    {
      benchmark: "proxy",
      figure: "added median latency (1 connection)",
      value: m(p50.proxied) - m(p50.direct),
      unit: "ms",
      target: { on: "value", op: "<=", limit: 1 },
      notes: [`p50 direct ${m(p50.direct).toFixed(3)} ms, proxied ${m(p50.proxied).toFixed(3)} ms`],
    },
    {
      benchmark: "proxy",
      figure: `${downloadMb} MB download through the proxy`,
      value: m(mbps.proxied),
      unit: "MB/s",
      reference: { label: "direct", value: m(mbps.direct) },
      target: { on: "ratio", op: ">=", limit: 0.8 },
      notes: [`the daemon's CPU per GB passed on: ${m(daemonMsPerGb).toFixed(0)} ms`],
    },
    {
      benchmark: "proxy",
      figure: "daemon RSS growth under that load",
      value: Math.max(rssAfter, upload.peakMb) - rssBefore,
      unit: "MB",
      target: { on: "value", op: "<=", limit: 20 },
      notes: [
        `before ${rssBefore.toFixed(1)} MB, after ${rssAfter.toFixed(1)} MB, peak during the ${uploadMb} MB upload ${upload.peakMb.toFixed(1)} MB`,
      ],
    },
  ];
}

interface Target {
  url: string;
  /** The Host field to send (the name through the proxy). */
  host?: string;
}

async function startUpstream(): Promise<{ port: number; proc: ReturnType<typeof Bun.spawn> }> {
  const node = Bun.which("node") ?? process.execPath;
  const proc = Bun.spawn([node, join(ROOT, "bench", "proxy-upstream.mjs")], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  trackPid(proc.pid);
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const port = Number(new TextDecoder().decode(value).trim());
  if (!port) throw new Error("the benchmark's dev server did not start");
  return { port, proc };
}

async function wrk(t: Target, path: string, connections: number, seconds: number) {
  const args = ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "--timeout", "10s"];
  if (t.host) args.push("-H", `Host: ${t.host}`);
  args.push(`${t.url}${path}`);
  const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = { us: 1e-3, ms: 1, s: 1000 }[(p50?.[2] ?? "ms") as "us" | "ms" | "s"];
  return { rps, requests, p50Ms: Number(p50?.[1]) * scale };
}

/** MB/s of one download of `mb` MB with curl. */
async function download(t: Target, mb: number): Promise<number> {
  const args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}"];
  if (t.host) args.push("-H", `Host: ${t.host}`);
  args.push(`${t.url}/big?mb=${mb}`);
  const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const [speed, size] = out.trim().split(" ").map(Number);
  if (code !== 0 || size !== mb * 1024 * 1024) throw new Error(`curl download failed: ${out}`);
  return (speed as number) / MB;
}

/**
 * Streams `bytes` of body through the proxy as fast as it takes them (backpressure honoured),
 * sampling the daemon's RSS meanwhile; the dev server must count every byte.
 */
async function uploadThrough(proxyPort: number, name: string, bytes: number, daemonPid: number) {
  let peak = memory(daemonPid).rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(daemonPid).rss);
  }, 50);
  const started = performance.now();
  const socket = connect(proxyPort, "127.0.0.1");
  let answer = "";
  socket.on("data", (c) => {
    answer += c.toString();
  });
  const ended = new Promise<void>((resolve, reject) => {
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
  socket.write(
    `POST /upload HTTP/1.1\r\nHost: ${name}:${proxyPort}\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`,
  );
  const chunk = Buffer.alloc(1024 * 1024, 97);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
  }
  await ended;
  clearInterval(sampler);
  if (!answer.endsWith(`\r\n\r\n${bytes}`) && !answer.includes(`\r\n${bytes}`)) {
    throw new Error(`the upload did not arrive whole: ${answer.slice(0, 200)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { mbps: bytes / MB / seconds, peakMb: peak / MB };
}

function fmtAll(values: number[], digits = 0): string {
  return `${median(values).toFixed(digits)} (${values.map((v) => v.toFixed(digits)).join(", ")})`;
}
