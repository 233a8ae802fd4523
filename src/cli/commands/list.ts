import type { Allocation, ListQuery } from "../../core/model.ts";
import { systemProbe } from "../../core/probe.ts";
import { Client } from "../client.ts";
import { detectApp } from "../detect.ts";
import type { Io } from "../io.ts";
import {
  ALLOCATION_COLUMNS,
  type Colors,
  type Column,
  colors,
  printJson,
  safe,
  table,
} from "../output.ts";

export interface ListOptions {
  app?: string;
  instance?: string;
  service?: string;
  /** Every app, not just the current one. */
  all?: boolean;
  json?: boolean;
}

export async function list(opts: ListOptions, io: Io): Promise<number> {
  const q: ListQuery = {};
  const app = opts.app ?? (opts.all ? undefined : detectApp(io.cwd));
  if (app !== undefined) q.app = app;
  if (opts.instance !== undefined) q.instance = opts.instance;
  if (opts.service !== undefined) q.service = opts.service;
  const rows = await new Client(io.env).list(q);
  if (opts.json) {
    printJson(io, rows);
    return 0;
  }
  if (rows.length === 0) {
    const filters = Object.entries(q).map(([k, v]) => `${k}=${v}`);
    const match = filters.length ? ` match ${filters.join(" ")}` : "";
    const hint = app && !opts.app ? " (portctl list --all shows every app)" : "";
    io.out(safe(`no allocations${match}${hint}`));
    return 0;
  }
  const c = colors(io);
  for (const line of table(rows, [...ALLOCATION_COLUMNS, listeningColumn(c)], c)) io.out(line);
  return 0;
}

// --- internal ---

/** Whether each port has a listener right now, seen from this machine (one look for all rows). */
function listeningColumn(c: Colors): Column<Allocation> {
  const listening = systemProbe().listening();
  return {
    header: "LISTENING",
    value: (a) => (listening(a.port) ? "yes" : "no"),
    style: (text) => (text.startsWith("yes") ? c.green(text) : c.dim(text)),
  };
}
