// `portctl export` and `portctl import`: the registry as a JSON array of the API's allocation
// objects, and back. Import is all or nothing: any conflict is reported and nothing changes.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileReason, PortError } from "../../core/errors.ts";
import { Client } from "../client.ts";
import type { Io } from "../io.ts";
import { printJson, safe } from "../output.ts";
import { listQuery } from "./list.ts";

export interface ExportOptions {
  app?: string;
  /** Every app, not just the current one. */
  all?: boolean;
}

/**
 * `list --json` (the same filters): the API's allocation objects, without other users' rows
 * (#28): those come without names (`hidden`), nothing an import could take back.
 */
export async function exportAllocations(opts: ExportOptions, io: Io): Promise<number> {
  const rows = await new Client(io.env).list(listQuery(opts, () => io.cwd));
  printJson(
    io,
    rows.filter((a) => !a.hidden),
  );
  return 0;
}

export interface ImportOptions {
  /** A file written by `portctl export`, or `-` for standard input. */
  file: string;
  json?: boolean;
}

export async function importAllocations(opts: ImportOptions, io: Io): Promise<number> {
  const rows = parseFile(opts.file, io);
  const result = await new Client(io.env).import(rows).catch((err: unknown) => {
    throw withRow(err, opts.file);
  });
  if (opts.json) printJson(io, result);
  else {
    const n = result.imported.length;
    const same = result.unchanged ? ` (${result.unchanged} already registered)` : "";
    io.out(`imported ${n} allocation${n === 1 ? "" : "s"}${same}`);
  }
  return 0;
}

// --- internal ---

function parseFile(file: string, io: Io): unknown {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : resolve(io.cwd, file), "utf8");
  } catch (err) {
    throw new PortError("bad_request", `cannot read ${safe(file)}: ${fileReason(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PortError("bad_request", `${safe(file)} is not JSON (portctl export writes it)`);
  }
}

/**
 * The API names a bad row by its index in the array (`0.instance is required`); a person counts
 * the file's rows from 1: `ports.json, row 1: instance is required`. --json keeps the API's text.
 */
function withRow(err: unknown, file: string): unknown {
  if (!(err instanceof PortError) || err.code !== "bad_request") return err;
  const m = /^(\d+)(?:\.(\S+))? (.*)$/.exec(err.message);
  if (!m) return err;
  const where = `${file === "-" ? "standard input" : file}, row ${Number(m[1]) + 1}`;
  err.human = `${where}: ${m[2] ? `${m[2]} ` : ""}${m[3]}`;
  return err;
}
