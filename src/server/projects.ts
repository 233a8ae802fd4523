// The routes of Compose project names (#24): claim one for a checkout, list, release.
import type { Hono } from "hono";
import { PortError } from "../core/errors.ts";
import {
  idParamSchema,
  parseOrThrow,
  projectQuerySchema,
  projectRequestSchema,
} from "../core/model.ts";
import { dnsLabel } from "../core/names.ts";
import { claimProject, listProjects, projectById, removeProjects } from "../core/projects.ts";
import { readJson } from "./body.ts";
import { clientPid } from "./ownership.ts";
import { json } from "./respond.ts";
import type { RouteDeps } from "./routes.ts";
import { viewsOf } from "./views.ts";

export function registerProjectRoutes(app: Hono, deps: RouteDeps): void {
  const { store, allocator, owners } = deps;

  // A name is its claimer's (#28); another user's is never taken over, only passed by.
  app.post("/v1/projects", async (c) => {
    const req = parseOrThrow(projectRequestSchema, await readJson(c.req.raw));
    const v = viewsOf(c, owners);
    const r = claimProject(store, allocator.checkoutExists, req, clientPid(c), {
      owner: owners.rowOwner(v.caller),
      mayChange: (p) => owners.sees(p, v.caller),
      label: owners.label(v.caller) ?? dnsLabel(owners.name(v.caller.uid)),
      refuse: (p) => {
        throw new PortError(
          "not_yours",
          `that Compose project name belongs to user ${owners.nameOf(p)}, not to you (${owners.name(v.caller.uid)})`,
          undefined,
          { owner: owners.nameOf(p) },
        );
      },
    });
    const shown = v.project(r.project);
    const body =
      r.takenOverFrom === undefined ? shown : { ...shown, taken_over_from: r.takenOverFrom };
    return json(body, r.created ? 201 : 200);
  });

  app.get("/v1/projects", (c) => {
    const q = parseOrThrow(projectQuerySchema, c.req.query());
    const byName = q.app !== undefined || q.instance !== undefined || q.name !== undefined;
    const v = viewsOf(c, owners);
    // By name, the caller's own (#28), an admin's too.
    const rows = listProjects(store, byName ? { ...q, owner: owners.key(v.caller) } : q);
    return json(v.projects(rows, byName));
  });

  app.delete("/v1/projects/:id", (c) => {
    const id = parseOrThrow(idParamSchema, c.req.param("id"), "id");
    const { caller } = viewsOf(c, owners);
    const pid = clientPid(c);
    const gone = store.write(() => {
      const p = projectById(store, id);
      if (p && !owners.sees(p, caller)) {
        throw new PortError(
          "not_yours",
          `that Compose project name belongs to user ${owners.nameOf(p)}, not to you (${owners.name(caller.uid)}): you cannot release it`,
          undefined,
          { owner: owners.nameOf(p) },
        );
      }
      const ctx = { pid, reason: `released by id${p ? owners.whose(p, caller) : ""}` };
      return p ? removeProjects(store, [p], "project_released", () => ctx) : [];
    });
    if (!gone.length) throw new PortError("not_found", "project not found");
    return json({ status: "deleted" });
  });
}

/** The paths served here, with their methods (for 405's Allow). */
export const PROJECT_PATHS: [RegExp, string][] = [
  [/^\/v1\/projects$/, "GET, HEAD, POST"],
  [/^\/v1\/projects\/[^/]+$/, "DELETE"],
];
