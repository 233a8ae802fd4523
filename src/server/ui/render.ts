/// <reference lib="dom" />
// The dashboard's DOM, built from the registry's data. Every name from outside goes in as
// text (textContent), never as HTML, and stays in the light DOM where it can be searched.
import { envKey } from "../../core/envkey.ts";
import type { Allocation } from "../../core/model.ts";

export interface Listener {
  port: number;
  pid?: number;
  process?: string;
  /** The container publishing the port, when an engine's proxy listens (engine text). */
  container?: { name: string; project?: string; working_dir?: string };
}

/**
 * `container shop-db-1 (Compose project shop, /home/me/work/shop)`, else the process name: put
 * in the page as text only, like every other name (a container's name is anybody's).
 */
export function listenerText(l: Listener): string {
  const c = l.container;
  if (!c) return l.process ?? "listening";
  const about = [c.project && `Compose project ${c.project}`, c.working_dir].filter(Boolean);
  return `container ${c.name}${about.length ? ` (${about.join(", ")})` : ""}`;
}

/** A Compose project name a checkout holds (GET /v1/projects). */
export interface ProjectName {
  name: string;
  app: string;
  instance: string;
  checkout: string;
}

export interface View {
  allocations: Allocation[];
  /** The Compose project names checkouts run their stacks under. */
  projects: ProjectName[];
  listeners: Map<number, Listener>;
  /** Allocation id → why prune would release it. */
  stale: Map<number, string>;
  range?: { lo: number; hi: number };
  filter: string;
  now: number;
}

export interface Handlers {
  release(a: Allocation): void;
  releaseInstance(app: string, instance: string, count: number): void;
  copy(text: string, what: string): void;
}

type Child = Node | string | null | undefined | false;

/** An element with attributes and children; strings become text nodes. */
function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c) node.append(c);
  return node;
}

export function button(label: string, onClick: () => void, attrs: Record<string, string> = {}) {
  const b = el("button", { type: "button", class: "button small", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
}

/** Allocations that match every word of the filter (app, instance, service, port, checkout). */
export function matching(view: View): Allocation[] {
  const words = view.filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return view.allocations;
  return view.allocations.filter((a) => {
    const text =
      `${a.app} ${a.instance} ${a.service} ${a.port} ${a.checkout ?? ""} ${a.name ?? ""}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** One card per app, one block per instance, one row per allocation. */
export function renderApps(view: View, on: Handlers): Node[] {
  const shown = matching(view);
  // Another user's allocations (#28) come without names: one card, `another user (alice)`.
  const apps = groupBy(shown, (a) => (a.hidden ? `another user (${a.owner})` : a.app));
  if (apps.size === 0) {
    const text = view.allocations.length
      ? "No allocation matches the filter."
      : "No ports allocated yet. Try: portctl allocate --service web";
    return [el("p", { class: "empty app" }, text)];
  }
  return [...apps].map(([app, rows]) => {
    const live = rows.filter((a) => view.listeners.has(a.port)).length;
    const instances = groupBy(rows, (a) => a.instance);
    return el(
      "article",
      { class: "app", "data-app": app },
      el(
        "h2",
        {},
        app,
        el(
          "span",
          { class: "count" },
          `${rows.length} ${plural(rows.length, "port")} · ${live} listening`,
        ),
      ),
      ...[...instances].map(([instance, list]) => renderInstance(app, instance, list, view, on)),
    );
  });
}

/** Ports in the auto-assign range that something listens on but nobody allocated. */
export function renderUnregistered(view: View, on: Handlers): Node {
  const allocated = new Set(view.allocations.map((a) => a.port));
  const { range } = view;
  const rows = [...view.listeners.values()].filter(
    (l) => !allocated.has(l.port) && (!range || (l.port >= range.lo && l.port <= range.hi)),
  );
  if (rows.length === 0)
    return el("p", { class: "empty" }, "None: every listener in the range is registered.");
  return el(
    "table",
    {},
    el(
      "thead",
      {},
      el("tr", {}, el("th", {}, "Port"), el("th", {}, "Process"), el("th", {}, "PID")),
    ),
    el(
      "tbody",
      {},
      ...rows.map((l) =>
        el(
          "tr",
          { "data-port": String(l.port) },
          el("td", { class: "port" }, String(l.port), copyButtons(String(l.port), undefined, on)),
          el(
            "td",
            { "data-label": "Process" },
            l.container ? listenerText(l) : (l.process ?? "unknown"),
          ),
          el("td", { "data-label": "PID", class: "dim" }, l.pid ? String(l.pid) : "—"),
        ),
      ),
    ),
  );
}

/** `web-api` → `WEB_API_PORT`: the copied line names the variable exactly as `portctl env` does. */
export { envKey };

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function ago(rfc3339: string | null | undefined, now: number): string {
  if (!rfc3339) return "never";
  const s = Math.max(0, Math.round((now - Date.parse(rfc3339)) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// --- internal ---

function renderInstance(
  app: string,
  instance: string,
  rows: Allocation[],
  view: View,
  on: Handlers,
) {
  const checkouts = [...new Set(rows.map((a) => a.checkout).filter((c): c is string => !!c))];
  const projects = view.projects
    .filter((p) => p.app === app && p.instance === instance && checkouts.includes(p.checkout))
    .map((p) => p.name);
  return el(
    "div",
    { class: "instance", "data-instance": instance },
    el(
      "div",
      { class: "instance-head" },
      el("span", { class: "instance-name" }, instance),
      el("span", { class: "checkout" }, checkouts.join(", ")),
      projects.length > 0 &&
        el(
          "span",
          { class: "project", title: "Compose project name (portctl run -- docker compose)" },
          `compose: ${projects.join(", ")}`,
        ),
      button("Release instance", () => on.releaseInstance(app, instance, rows.length), {
        class: "button small danger",
        "aria-label": `Release every port of ${app}/${instance}`,
      }),
    ),
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ...["Service", "Port", "Name", "Listening", "Created", "Last seen", "Lease", ""].map(
            (h) => el("th", {}, h),
          ),
        ),
      ),
      el("tbody", {}, ...rows.sort((a, b) => a.port - b.port).map((a) => renderRow(a, view, on))),
    ),
  );
}

function renderRow(a: Allocation, view: View, on: Handlers): Node {
  const l = view.listeners.get(a.port);
  const stale = view.stale.get(a.id);
  const listening = l
    ? el(
        "span",
        { class: "live" },
        l.container
          ? listenerText(l)
          : `${l.process ?? "listening"}${l.pid ? ` (pid ${l.pid})` : ""}`,
      )
    : el("span", { class: "dim" }, "no");
  return el(
    "tr",
    { "data-id": String(a.id), "data-key": `row-${a.id}` },
    el(
      "td",
      { class: "service" },
      a.hidden ? "—" : a.service,
      stale && el("span", { class: "badge", title: stale }, "STALE"),
    ),
    el(
      "td",
      { class: "port" },
      String(a.port),
      copyButtons(String(a.port), a.hidden ? undefined : `${envKey(a.service)}=${a.port}`, on),
    ),
    el("td", { class: "name", "data-label": "Name" }, nameLink(a)),
    el("td", { "data-label": "Listening" }, listening),
    el("td", { "data-label": "Created", title: a.created_at }, ago(a.created_at, view.now)),
    el(
      "td",
      { "data-label": "Last seen", title: a.last_seen ?? "" },
      l ? "now" : ago(a.last_seen, view.now),
    ),
    el(
      "td",
      { "data-label": "Lease", class: "dim" },
      a.lease_pid ? `pid ${a.lease_pid}` : a.lease_session ? `session ${a.lease_session}` : "—",
    ),
    el(
      "td",
      { class: "row-actions" },
      a.hidden
        ? null
        : button("Release", () => on.release(a), {
            class: "button small danger",
            "data-key": `release-${a.id}`,
            "aria-label": `Release ${a.app}/${a.instance}/${a.service} (port ${a.port})`,
          }),
    ),
  );
}

/** The service's URL under .localhost, a link (new tab) where it serves HTTP, else its name. */
function nameLink(a: Allocation): Node | undefined {
  if (!a.name) return undefined; // an older daemon
  // Only a URL of the shape the daemon makes becomes a link: never another scheme or host.
  if (a.url && /^http:\/\/[a-z0-9.-]+\.localhost(?::\d{1,5})?$/.test(a.url)) {
    return el(
      "a",
      { class: "name", href: a.url, target: "_blank", rel: "noopener noreferrer" },
      a.name,
    );
  }
  return el("span", { class: "name dim" }, a.name);
}

function copyButtons(port: string, line: string | undefined, on: Handlers): Node {
  return el(
    "span",
    { class: "copy" },
    button("copy", () => on.copy(port, `port ${port}`), { "aria-label": `Copy port ${port}` }),
    line &&
      button(line.split("=")[0] ?? "", () => on.copy(line, line), { "aria-label": `Copy ${line}` }),
  );
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const r of [...rows].sort((a, b) => key(a).localeCompare(key(b)))) {
    const k = key(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return groups;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
