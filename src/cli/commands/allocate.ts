import { checkoutExists, ownership } from "../../core/checkout.ts";
import { PortError } from "../../core/errors.ts";
import type { SystemUse } from "../../core/model.ts";
import { Client } from "../client.ts";
import { detectCheckoutPath, detectOwner } from "../detect.ts";
import type { Io } from "../io.ts";
import { colors, owner, printJson, safe } from "../output.ts";

export interface AllocateOptions {
  app?: string;
  instance?: string;
  service: string;
  /** 0 or undefined: the server picks the first free port of its range. */
  port?: number;
  /** A block of this many contiguous ports. */
  count?: number;
  reuse?: boolean;
  /** Register `port` even though a process listens on it (its own server, already running). */
  adopt?: boolean;
  /** Tie the allocation to this process: released when it exits. */
  leasePid?: number;
  /** Tie it to portctl's parent process (the shell or test runner that ran it). */
  lease?: boolean;
  /** Serves HTTP: the allocation gets a URL. */
  http?: boolean;
  /** Its name under .localhost instead of the derived one. */
  name?: string;
  /** Hold it for this agent session: released by `portctl session end`, a lapsed heartbeat or a deleted checkout. */
  leaseSession?: string;
  quiet?: boolean;
  json?: boolean;
}

export async function allocate(opts: AllocateOptions, io: Io): Promise<number> {
  if (opts.adopt && !opts.port) {
    throw new PortError(
      "bad_request",
      "--adopt registers a port something already listens on: pass it with --port N",
    );
  }
  const req = {
    ...detectOwner(io.cwd, opts),
    service: opts.service,
    port: opts.port ?? 0,
    checkout: detectCheckoutPath(io.cwd),
    ...leaseOf(opts),
    ...(opts.count && opts.count > 1 ? { count: opts.count } : {}),
    ...(opts.http ? { http: true } : {}),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  };
  const {
    allocation: a,
    created,
    takenOverFrom,
    block,
  } = await new Client(io.env)
    .allocate(req, { reuse: opts.reuse ?? false, adopt: opts.adopt ?? false })
    .catch(async (err: unknown) => {
      if (err instanceof PortError && err.code === "port_in_use" && (await mayBeOwn(err, req))) {
        err.hint = `if it is ${req.service}'s own server, pass --adopt to register it`;
      }
      throw otherCheckout(movedService(err, req.port), req.checkout);
    });
  // From a container whose workspace is not a folder mounted from the host, the registry
  // cannot know the checkout's host path and records none (#28): say so, once.
  if (created && req.checkout && a.checkout === null && !opts.json) {
    io.err(
      "note: the registry cannot see this checkout from the host (a container's own folder, not a bind mount); recorded without one",
    );
  }
  if (opts.json) printJson(io, block ? { ...a, block } : a);
  else if (opts.quiet) io.out((block ?? [a]).map((b) => safe(b.port)).join(" "));
  else {
    const c = colors(io);
    const verb = created ? "allocated" : "reusing";
    const lease = a.lease_pid
      ? `, leased to process ${safe(a.lease_pid)}`
      : a.lease_session
        ? `, held by session ${safe(a.lease_session)}`
        : "";
    const last = block?.at(-1);
    const what =
      block && last
        ? `ports ${c.bold(c.green(`${safe(a.port)}-${safe(last.port)}`))} (block ${safe(a.id)}: ${block.map((b) => safe(b.service)).join(", ")})`
        : `port ${c.bold(c.green(safe(a.port)))} (id=${safe(a.id)})`;
    // The seed's line, and the URL for a service that serves HTTP.
    const where = a.url ? ` → ${safe(a.url)}` : "";
    io.out(`${verb} ${what} for ${owner(a)}${where}${lease}${takeOverNote(takenOverFrom)}`);
  }
  return 0;
}

/**
 * `--port N` for a service that holds another port: the server's error, with the port that was
 * asked for, so cli/errors.ts says "release it first to move it" rather than "pass --reuse"
 * (which returns the other port only when no --port is asked for). `holder` stays: `--json`
 * shows who holds the service, as for every conflict.
 */
export function movedService(err: unknown, port: number): unknown {
  if (!(err instanceof PortError) || err.code !== "service_allocated" || !err.holder) return err;
  if (!port || port === err.holder.port) return err;
  return new PortError(err.code, err.message, err.holder, { ...err.details, requested_port: port });
}

// --- internal ---

/**
 * Whether --adopt is worth suggesting: not for a container of another checkout's Compose
 * project (recorded, its next `up` here would fail on the port it holds).
 */
async function mayBeOwn(err: PortError, req: { checkout: string }): Promise<boolean> {
  const system = err.details?.system as SystemUse | undefined;
  if (!system?.container) return true;
  const { heldByCheckout } = await import("../../core/holder.ts");
  return heldByCheckout(system, req.checkout);
}

function leaseOf(opts: AllocateOptions): { lease_pid?: number; lease_session?: string } {
  if (opts.lease && opts.leasePid !== undefined) {
    throw new PortError("bad_request", "--lease and --lease-pid both name the process; pass one");
  }
  if ((opts.lease || opts.leasePid !== undefined) && opts.leaseSession !== undefined) {
    throw new PortError("bad_request", "pass one of --lease, --lease-pid and --lease-session");
  }
  if (opts.leaseSession !== undefined) return { lease_session: opts.leaseSession };
  if (opts.leasePid !== undefined) return { lease_pid: opts.leasePid };
  return opts.lease ? { lease_pid: process.ppid } : {};
}

/** Said when reuse moved the allocation to this checkout. */
function takeOverNote(from: string | null | undefined): string {
  if (from === undefined) return "";
  if (from === null) return "; it had no checkout recorded, and now belongs to this one";
  return `; taken over from the checkout at ${safe(from)}, which no longer exists`;
}

/**
 * Without --reuse, a service that another existing checkout owns: "pass --reuse" would only be
 * refused next, so say what --reuse would have said (and what helps: --instance).
 */
function otherCheckout(err: unknown, checkout: string): unknown {
  if (!(err instanceof PortError) || err.code !== "service_allocated" || !err.holder) return err;
  if (err.details?.requested_port) return err;
  // The rule --reuse applies (core/checkout.ts), and its refusal.
  const o = ownership(err.holder, checkout, checkoutExists);
  return o.verdict === "refuse" ? o.error : err;
}
