// `portctl session`: the agent sessions that hold ports (`allocate --lease-session ID`), kept
// alive by a heartbeat and ended by `session end` (a hook's SessionEnd, a script's teardown).
import { PortError } from "../../core/errors.ts";
import type { Session } from "../../core/sessions.ts";
import { Client } from "../client.ts";
import { parseSessionId } from "../flags.ts";
import type { Io } from "../io.ts";
import { colors, owner, printJson, safe } from "../output.ts";
import { table, tableWidth } from "../table.ts";

/** Releases what the session holds; a session holding nothing is not an error (exit 0). */
export async function sessionEnd(
  opts: { id?: string; hook?: string; json?: boolean },
  io: Io,
): Promise<number> {
  if (opts.hook) return (await import("../hooks/session.ts")).sessionEndHook(io);
  if (!opts.id) throw new PortError("bad_request", "name the session: portctl session end ID");
  const { released } = await new Client(io.env).endSession(sessionId(opts.id));
  if (opts.json) printJson(io, { released });
  else if (released.length === 0) io.out(`session ${safe(opts.id)} held no ports`);
  else {
    for (const a of released)
      io.out(`released port ${safe(a.port)} (id=${safe(a.id)}) of ${owner(a)}`);
  }
  return 0;
}

export async function sessionHeartbeat(
  opts: { id?: string; ttl?: string; hook?: string; json?: boolean },
  io: Io,
): Promise<number> {
  if (opts.hook) return (await import("../hooks/session.ts")).sessionHeartbeatHook(io);
  if (!opts.id)
    throw new PortError("bad_request", "name the session: portctl session heartbeat ID");
  const s = await new Client(io.env).heartbeat(sessionId(opts.id), opts.ttl);
  if (opts.json) printJson(io, s);
  else {
    const n = s.allocations.length;
    io.out(
      `session ${safe(s.id)} holds ${n} port${n === 1 ? "" : "s"}; it ends after ${safe(s.ttl_seconds)}s without a heartbeat`,
    );
  }
  return 0;
}

export async function sessionList(opts: { json?: boolean }, io: Io): Promise<number> {
  const sessions = await new Client(io.env).sessions();
  if (opts.json) printJson(io, sessions);
  else if (sessions.length === 0) io.out("no sessions");
  else for (const line of rows(sessions, io)) io.out(line);
  return 0;
}

// --- internal ---

function sessionId(value: string): string {
  try {
    return parseSessionId(value);
  } catch (err) {
    throw new PortError("bad_request", `session ${(err as Error).message}`);
  }
}

function rows(sessions: Session[], io: Io): string[] {
  const c = colors(io);
  return table(
    sessions,
    [
      { header: "SESSION", value: (s) => s.id },
      // The registry's own user sees other users' sessions too (#28): whose each is.
      ...(sessions.some((s) => s.owner !== undefined)
        ? [{ header: "OWNER", value: (s: Session) => s.owner ?? "" }]
        : []),
      { header: "STARTED", value: (s) => s.started_at, fixed: true },
      { header: "HEARTBEAT", value: (s) => s.heartbeat_at ?? "—", fixed: true },
      { header: "TTL", value: (s) => (s.ttl_seconds === null ? "—" : `${s.ttl_seconds}s`) },
      {
        header: "PORTS",
        value: (s) =>
          s.allocations.map((a) => `${a.port} ${a.app}/${a.instance}/${a.service}`).join(", "),
      },
    ],
    c,
    tableWidth(io),
  );
}
