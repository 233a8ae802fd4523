// `portctl history`: who had a port, and when it changed, newest first.
import type { PortEvent } from "../../core/model.ts";
import { Client } from "../client.ts";
import { detectApp } from "../detect.ts";
import type { Io } from "../io.ts";
import { localTime } from "../localtime.ts";
import { type Colors, colors, owner, printJson, safe } from "../output.ts";
import { type Column, table, tableWidth } from "../table.ts";

export interface HistoryOptions {
  port?: number;
  app?: string;
  instance?: string;
  service?: string;
  since?: string;
  limit?: number;
  /** Every app's events, not just the current app's. */
  all?: boolean;
  json?: boolean;
}

/**
 * The current app's events (as `list`), unless `--app`, `--all` or `--port`: who had a port is
 * asked across every app.
 */
export async function history(opts: HistoryOptions, io: Io): Promise<number> {
  const { json, all, ...q } = opts;
  if (q.app === undefined && !all && q.port === undefined) q.app = detectApp(io.cwd);
  const events = await new Client(io.env).events(q);
  if (json) printJson(io, events);
  else if (events.length === 0) io.out(safe(`no events${filters(q)}`));
  else
    for (const line of table(events, columns(colors(io)), colors(io), tableWidth(io))) io.out(line);
  return 0;
}

// --- internal ---

function filters(q: Omit<HistoryOptions, "json">): string {
  const parts = Object.entries(q)
    .filter(([k, v]) => v !== undefined && k !== "limit")
    .map(([k, v]) => `${k}=${v}`);
  return parts.length ? ` match ${parts.join(" ")}` : "";
}

const KIND_STYLE: Record<PortEvent["kind"], keyof Colors> = {
  allocated: "green",
  released: "dim",
  taken_over: "yellow",
  pruned: "yellow",
  lease_ended: "dim",
  imported: "green",
  project_allocated: "green",
  project_released: "dim",
  project_taken_over: "yellow",
  project_pruned: "yellow",
};

function columns(c: Colors): Column<PortEvent>[] {
  return [
    { header: "WHEN", value: (e) => localTime(e.at) },
    { header: "EVENT", value: (e) => e.kind, style: (t, e) => c[KIND_STYLE[e.kind]](t) },
    { header: "PORT", value: (e) => (e.project === null ? String(e.port) : "") },
    {
      header: "ALLOCATION",
      value: (e) => (e.project === null ? owner(e) : `${e.app}/${e.instance} project ${e.project}`),
    },
    { header: "PID", value: (e) => (e.pid === null ? "" : String(e.pid)) },
    { header: "REASON", value: (e) => e.reason },
    { header: "CHECKOUT", value: (e) => e.checkout ?? "" },
  ];
}
