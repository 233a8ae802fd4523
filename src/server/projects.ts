// The routes of Compose project names (#24): claim one for a checkout, list, release.
import type { Hono } from "hono";
import { PortError } from "../core/errors.ts";
import {
  idParamSchema,
  parseOrThrow,
  projectQuerySchema,
  projectRequestSchema,
} from "../core/model.ts";
import { claimProject, listProjects, projectById, removeProjects } from "../core/projects.ts";
import { readJson } from "./body.ts";
import { clientPid } from "./ownership.ts";
import { json } from "./respond.ts";
import type { RouteDeps } from "./routes.ts";

export function registerProjectRoutes(app: Hono, deps: RouteDeps): void {
  const { store, allocator } = deps;

  app.post("/v1/projects", async (c) => {
    const req = parseOrThrow(projectRequestSchema, await readJson(c.req.raw));
    const r = claimProject(store, allocator.checkoutExists, req, clientPid(c));
    const body =
      r.takenOverFrom === undefined
        ? r.project
        : { ...r.project, taken_over_from: r.takenOverFrom };
    return json(body, r.created ? 201 : 200);
  });

  app.get("/v1/projects", (c) => {
    const q = parseOrThrow(projectQuerySchema, c.req.query());
    return json(listProjects(store, q));
  });

  app.delete("/v1/projects/:id", (c) => {
    const id = parseOrThrow(idParamSchema, c.req.param("id"), "id");
    const ctx = { pid: clientPid(c), reason: "released by id" };
    const gone = store.write(() => {
      const p = projectById(store, id);
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
