// The container engine (Docker, Podman, Docker Desktop) as a source of truth for who publishes
// a port: its HTTP API over a Unix socket, no SDK. Asked only when the kernel's listener table
// says an engine's proxy holds the port (core/holder.ts); every reply is untrusted (a short
// deadline, a size limit, a zod schema, and strings the CLI escapes before printing).
import { existsSync, statSync } from "node:fs";
import { z } from "zod";
import { ENGINE_MAX_REPLY_BYTES, ENGINE_SOCKETS, ENGINE_TIMEOUT_MS, type Env } from "./config.ts";
import type { Container } from "./model.ts";

/** The containers publishing ports on this machine; tests swap in their own. */
export interface Engine {
  /** Host port → the running container publishing it (TCP), from every engine that answered. */
  published(port?: number): Promise<Map<number, Container>>;
  /**
   * How many containers, running or stopped, each of these Compose project names has in every
   * engine that answered (names with none are absent). Optional: an engine that cannot say
   * leaves a gone checkout's name to be freed.
   */
  composeContainers?(names: readonly string[]): Promise<Map<string, number>>;
}

/**
 * Process names that stand for a container's published port: Docker's userland proxy, rootless
 * Docker's and Podman's port forwarders, Docker Desktop's backend (macOS, through vpnkit or
 * gvproxy), Podman's conmon (rootful, it holds the ports it reserves).
 */
export const ENGINE_PROCESSES = [
  "docker-proxy",
  "rootlessport",
  "rootlesskit",
  "dockerd",
  "com.docker.backend",
  "gvproxy",
  "podman",
  "conmon",
];

/**
 * Whether a listener's process is an engine's proxy. The kernel keeps 15 bytes of a name
 * (`com.docker.back`), lsof 9 (`com.docke`): a cut name matches the start of a full one.
 */
export function isEngineProcess(name: string | undefined): boolean {
  if (!name) return false;
  return ENGINE_PROCESSES.some((p) => p === name || (name.length >= 9 && p.startsWith(name)));
}

/** DOCKER_HOST when it is a unix:// address, then the usual places (config.ts), existing only. */
export function engineSockets(env: Env): string[] {
  const fromEnv = env.DOCKER_HOST?.trim();
  // A tcp:// or ssh:// engine is not this machine's own listener table: nothing to ask there.
  if (fromEnv) return fromEnv.startsWith("unix://") ? [fromEnv.slice("unix://".length)] : [];
  const out: string[] = [];
  for (const template of ENGINE_SOCKETS) {
    const path = expand(template, env);
    if (path && !out.includes(path) && isSocket(path)) out.push(path);
  }
  return out;
}

/** The engines behind `sockets`, all asked at once, within one deadline. */
export function socketEngine(
  sockets: () => string[],
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): Engine {
  const timeoutMs = opts.timeoutMs ?? ENGINE_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? ENGINE_MAX_REPLY_BYTES;
  return {
    async published(port) {
      const signal = AbortSignal.timeout(timeoutMs);
      const replies = await Promise.all(
        sockets().map((s) => listContainers(s, publishing(port), signal, maxBytes)),
      );
      const out = new Map<number, Container>();
      for (const reply of replies) {
        for (const c of reply) {
          for (const p of c.Ports ?? []) {
            const hostPort = p.PublicPort;
            if (!hostPort || p.Type !== "tcp" || out.has(hostPort)) continue;
            if (port === undefined || hostPort === port) out.set(hostPort, container(c));
          }
        }
      }
      return out;
    },
    async composeContainers(names) {
      const out = new Map<string, number>();
      if (names.length === 0) return out;
      const signal = AbortSignal.timeout(timeoutMs);
      // Every container of any Compose project, stopped ones too (all=1), in one question per
      // engine; the label is checked again here, as the engine's filter is not trusted.
      const filter = JSON.stringify({ label: [LABEL.project] });
      const query = `?all=1&filters=${encodeURIComponent(filter)}`;
      const replies = await Promise.all(
        sockets().map((s) => listContainers(s, query, signal, maxBytes)),
      );
      const wanted = new Set(names);
      for (const c of replies.flat()) {
        const name = c.Labels?.[LABEL.project];
        if (name !== undefined && wanted.has(name)) out.set(name, (out.get(name) ?? 0) + 1);
      }
      return out;
    },
  };
}

/**
 * The working folders (Compose's label) of Compose project `name`'s containers, running or
 * stopped, in every engine that answered: a stack made by plain `docker compose`, before
 * port-server knew of it. [] with no engine, a slow one, or an unusable reply.
 */
export async function composeProjectFolders(
  sockets: string[],
  name: string,
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<string[]> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? ENGINE_TIMEOUT_MS);
  const filter = JSON.stringify({ label: [`${LABEL.project}=${name}`] });
  const query = `?all=1&filters=${encodeURIComponent(filter)}`;
  const replies = await Promise.all(
    sockets.map((s) => listContainers(s, query, signal, opts.maxBytes ?? ENGINE_MAX_REPLY_BYTES)),
  );
  const out = new Set<string>();
  for (const c of replies.flat()) {
    // The engine's filter is trusted no more than its text: the label is checked again here.
    if (c.Labels?.[LABEL.project] !== name) continue;
    const dir = c.Labels?.[LABEL.working_dir];
    if (dir?.startsWith("/")) out.add(dir);
  }
  return [...out];
}

/** This machine's engines: the sockets of `env`, looked up on every question (one may appear). */
export function systemEngine(env: Env = process.env): Engine {
  return socketEngine(() => engineSockets(env));
}

// --- internal ---

// Docker and Podman both answer GET /containers/json with these fields; the rest is dropped.
// The engine is outside text: lengths are bounded, anything else makes the reply unusable.
const text = z.string().max(4096);
const replySchema = z.array(
  z.object({
    Id: z.string().max(128),
    Names: z.array(z.string().max(256)).max(16).nullish(),
    Labels: z.record(z.string().max(256), text).nullish(),
    Ports: z
      .array(
        z.object({
          PublicPort: z.number().int().min(1).max(65535).optional(),
          Type: z.string().max(8).optional(),
        }),
      )
      .nullish(),
  }),
);
type Reply = z.infer<typeof replySchema>;

const LABEL = {
  project: "com.docker.compose.project",
  working_dir: "com.docker.compose.project.working_dir",
  service: "com.docker.compose.service",
} as const;

/** The query for running containers publishing `port` (all running ones without it). */
function publishing(port: number | undefined): string {
  return port === undefined ? "" : `?filters=${encodeURIComponent(`{"publish":["${port}/tcp"]}`)}`;
}

/** GET /containers/json with `filter` (a query string); [] for any failure, said by nobody. */
async function listContainers(
  socket: string,
  filter: string,
  signal: AbortSignal,
  maxBytes: number,
): Promise<Reply> {
  try {
    const res = await fetch(`http://engine/containers/json${filter}`, { unix: socket, signal });
    const body = await readCapped(res, maxBytes);
    if (!res.ok || body === undefined) return [];
    const parsed = replySchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : [];
  } catch {
    return []; // no engine there, too slow, or not JSON
  }
}

/** The body as text, or undefined past `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > max || !res.body) {
    await res.body?.cancel();
    return declared > max ? undefined : "";
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) {
      await res.body.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function container(c: Reply[number]): Container {
  const name = c.Names?.[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12);
  const labels = c.Labels ?? {};
  const out: Container = { id: c.Id, name };
  for (const [key, label] of Object.entries(LABEL)) {
    const value = labels[label];
    if (value) out[key as keyof typeof LABEL] = value;
  }
  return out;
}

function expand(template: string, env: Env): string | undefined {
  if (template.startsWith("~/")) return env.HOME ? `${env.HOME}${template.slice(1)}` : undefined;
  if (template.startsWith("$XDG_RUNTIME_DIR/")) {
    const dir = env.XDG_RUNTIME_DIR;
    return dir ? `${dir}${template.slice("$XDG_RUNTIME_DIR".length)}` : undefined;
  }
  return template;
}

function isSocket(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isSocket();
  } catch {
    return false;
  }
}
