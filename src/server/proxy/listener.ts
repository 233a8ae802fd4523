// The proxy's own listener, on loopback only (127.0.0.1 and ::1, one port): port 80 where this
// user may bind it, else the fixed fallback (core/config.ts), or exactly the port configured.
// Raw TCP (Bun.listen), not Bun.serve: the head is read by our own code (connection.ts), so bodies
// stream both ways without buffering and an Upgrade is a byte tunnel (docs/names.md says why).
// A TLS listener would hand its sockets to the same handler with `proto: "https"`.
import { randomBytes } from "node:crypto";
import type { TCPSocketListener } from "bun";
import { PROXY_FALLBACK_PORT, PROXY_MAX_UPSTREAMS, PROXY_PORT } from "../../core/config.ts";
import type { Store } from "../../core/store.ts";
import {
  type ClientSocket,
  type Connection,
  clientHandlers,
  type ProxyContext,
} from "./connection.ts";
import type { VisibleNames } from "./viewer.ts";

type Server = TCPSocketListener<Connection>;

/** `auto`: 80, else the fallback. A number: that port only (0: any free one, for tests). */
export type ProxyPortSetting = "auto" | "off" | number;

export interface ProxyStatus {
  /** The port it listens on, or null when it does not run. */
  port: number | null;
  setting: ProxyPortSetting;
  /** The addresses bound (`127.0.0.1`, `::1`). */
  addresses: string[];
  /** Why port 80 was not used (auto), or why the proxy does not run. */
  note?: string;
}

export interface NamesProxy {
  status: ProxyStatus;
  close(): Promise<void>;
}

export interface ProxyOptions {
  store: Store;
  setting: ProxyPortSetting;
  apiPort: () => number;
  headTimeoutMs: number;
  /** The names a client may see listed: its own user's (viewer.ts). */
  visible: VisibleNames;
  /** Connections to one allocation at most (PROXY_MAX_UPSTREAMS). */
  maxUpstreams?: number;
}

/** Binds and serves; never throws: a proxy that cannot listen is a status with a note. */
export async function startProxy(opts: ProxyOptions): Promise<NamesProxy> {
  const none = (note?: string): NamesProxy => ({
    status: { port: null, setting: opts.setting, addresses: [], ...(note ? { note } : {}) },
    close: async () => undefined,
  });
  if (opts.setting === "off") return none("turned off");
  const ports = opts.setting === "auto" ? [PROXY_PORT, PROXY_FALLBACK_PORT] : [opts.setting];
  let note: string | undefined;
  const sockets = new Set<ClientSocket>();
  for (const port of ports) {
    const ctx: Omit<ProxyContext, "proxyPort"> = {
      store: opts.store,
      apiPort: opts.apiPort,
      via: `port-server-${randomBytes(4).toString("hex")}`,
      headTimeoutMs: opts.headTimeoutMs,
      proto: "http",
      marked: new Set(),
      visible: opts.visible,
      open: new Map(),
      maxUpstreams: opts.maxUpstreams ?? PROXY_MAX_UPSTREAMS,
    };
    const bound = await bindBoth(port, ctx, sockets).catch((err: NodeJS.ErrnoException) => err);
    if (!(bound instanceof Error)) {
      opts.store.setProxyPort(bound.port);
      const status: ProxyStatus = {
        port: bound.port,
        setting: opts.setting,
        addresses: bound.servers.map((s) => s.hostname),
        ...(note ? { note } : {}),
      };
      return { status, close: () => closeAll(bound.servers, sockets) };
    }
    note = `port ${port}: ${bindError(bound)}`;
  }
  opts.store.setProxyPort(null);
  return none(note);
}

// --- internal ---

/** 127.0.0.1 on `port`, then ::1 on the same one (skipped where the machine has no IPv6). */
async function bindBoth(
  port: number,
  ctx: Omit<ProxyContext, "proxyPort">,
  sockets: Set<ClientSocket>,
): Promise<{ port: number; servers: Server[] }> {
  for (let attempt = 0; ; attempt++) {
    const context = { ...ctx, proxyPort: port };
    const v4 = listen(context, sockets, port, "127.0.0.1");
    context.proxyPort = v4.port;
    try {
      const v6 = listen(context, sockets, v4.port, "::1");
      return { port: v4.port, servers: [v4, v6] };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT")
        return { port: v4.port, servers: [v4] };
      await closeAll([v4]);
      // A free port picked on 127.0.0.1 may be taken on ::1: pick again.
      if (port !== 0 || attempt >= 5) throw err;
    }
  }
}

function listen(
  ctx: ProxyContext,
  sockets: Set<ClientSocket>,
  port: number,
  hostname: string,
): Server {
  return Bun.listen<Connection>({
    hostname,
    port,
    exclusive: true,
    allowHalfOpen: true,
    socket: clientHandlers(ctx, sockets),
  });
}

/** Stops listening and cuts what is still open (an event stream, a WebSocket would wait forever). */
async function closeAll(servers: Server[], sockets = new Set<ClientSocket>()): Promise<void> {
  for (const s of servers) s.stop(true);
  for (const socket of sockets) socket.terminate();
}

function bindError(err: NodeJS.ErrnoException): string {
  if (err.code === "EACCES") return "permission denied (ports below 1024 need a privilege)";
  if (err.code === "EADDRINUSE") return "already in use";
  return err.message;
}
