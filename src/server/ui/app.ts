/// <reference lib="dom" />
// The dashboard's behaviour: it reads the registry through the same JSON API as portctl
// (same-origin fetches, so the daemon's Sec-Fetch-Site check lets its writes through and
// refuses everyone else's), polls it every second, and redraws only when something changed.
import type { Allocation } from "../../core/model.ts";
import {
  type Handlers,
  type Listener,
  type ProjectName,
  renderApps,
  renderUnregistered,
  type View,
} from "./render.ts";

const POLL_MS = 1000;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Health {
  version?: string;
  range?: string;
  exclude?: string[];
  db?: string;
}

let data:
  | {
      allocations: Allocation[];
      projects: ProjectName[];
      listeners: Listener[];
      stale: [number, string][];
      health: Health;
    }
  | undefined;
let drawn = "";

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: "no-store",
  });
  const parsed = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(parsed.error ?? `HTTP ${res.status}`);
  return parsed;
}

async function refresh(): Promise<void> {
  try {
    const [allocations, projects, listeners, prune, health] = await Promise.all([
      api<Allocation[]>("GET", "/v1/allocations"),
      api<ProjectName[]>("GET", "/v1/projects"),
      api<Listener[]>("GET", "/v1/listeners"),
      api<{ candidates: { allocation: Allocation; reason: string }[] }>("POST", "/v1/prune", {
        dry_run: true,
      }),
      api<Health>("GET", "/healthz"),
    ]);
    const stale = prune.candidates.map((c): [number, string] => [c.allocation.id, c.reason]);
    data = { allocations, projects, listeners, stale, health };
    $("banner").hidden = true;
  } catch (err) {
    const banner = $("banner");
    banner.textContent = `port-server is not answering (${(err as Error).message}) — start it with: portctl start`;
    banner.hidden = false;
  }
  draw();
}

/** Redraws when the data, the filter or a shown time changed; keeps focus on the same control. */
function draw(): void {
  if (!data) return;
  const now = Date.now();
  const filter = $<HTMLInputElement>("filter").value;
  const signature = JSON.stringify([data, filter, Math.floor(now / 10_000)]);
  if (signature === drawn) return;
  drawn = signature;
  const view: View = {
    allocations: data.allocations,
    projects: data.projects,
    listeners: new Map(data.listeners.map((l) => [l.port, l])),
    stale: new Map(data.stale),
    range: parseRange(data.health.range),
    filter,
    now,
  };
  const focused = document.activeElement?.getAttribute("data-key");
  $("apps").replaceChildren(...renderApps(view, handlers));
  $("listeners").replaceChildren(renderUnregistered(view, handlers));
  if (focused)
    (document.querySelector(`[data-key="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
  summary(view);
  const prune = $<HTMLButtonElement>("prune");
  prune.disabled = view.stale.size === 0;
  prune.textContent = view.stale.size ? `Prune ${view.stale.size} stale` : "Prune stale";
}

/** `1 app`, `2 apps`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function summary(view: View): void {
  const apps = new Set(view.allocations.map((a) => a.app)).size;
  const live = view.allocations.filter((a) => view.listeners.has(a.port)).length;
  $("summary").textContent =
    `${count(view.allocations.length, "allocation")} in ${count(apps, "app")} · ${live} listening · ${view.stale.size} stale`;
  const h = data?.health ?? {};
  const exclude = h.exclude?.length ? ` · excluded ${h.exclude.join(", ")}` : "";
  $("footer").textContent =
    `port-server ${h.version ?? ""} · auto-assign ${h.range ?? "?"}${exclude} · ${h.db ?? ""}`;
}

const handlers: Handlers = {
  async release(a) {
    if (!(await confirm(`Release port ${a.port} of ${a.app}/${a.instance}/${a.service}?`))) return;
    await act(() => api("DELETE", `/v1/allocations/${a.id}`), `released port ${a.port}`);
  },
  async releaseInstance(app, instance, count) {
    const what = count === 1 ? "the port" : `all ${count} ports`;
    if (!(await confirm(`Release ${what} of ${app}/${instance}?`))) return;
    await act(async () => {
      const r = await api<{ deleted: number }>("DELETE", "/v1/allocations", { app, instance });
      return `released ${r.deleted === 1 ? "1 port" : `${r.deleted} ports`} of ${app}/${instance}`;
    });
  },
  copy(text, what) {
    navigator.clipboard.writeText(text).then(
      () => toast(`copied ${what}`),
      () => toast("the browser refused the clipboard"),
    );
  },
};

async function prune(): Promise<void> {
  const n = data?.stale.length ?? 0;
  if (!n || !(await confirm(`Release ${n} stale allocations (their checkouts no longer exist)?`)))
    return;
  await act(async () => {
    const r = await api<{ candidates: unknown[] }>("POST", "/v1/prune", {});
    return `pruned ${r.candidates.length} allocations`;
  });
}

/** Runs a write, says how it went, and refreshes at once rather than at the next poll. */
async function act(write: () => Promise<unknown>, done?: string): Promise<void> {
  try {
    const said = await write();
    toast(typeof said === "string" ? said : (done ?? "done"));
  } catch (err) {
    toast(`failed: ${(err as Error).message}`);
  }
  await refresh();
}

/** The confirmation dialog; Escape and Cancel say no. Focus starts on Cancel. */
function confirm(text: string): Promise<boolean> {
  const dialog = $<HTMLDialogElement>("confirm");
  $("confirm-text").textContent = text;
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => {
    const finish = (yes: boolean) => {
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(yes);
    };
    const onClose = () => finish(false);
    dialog.addEventListener("close", onClose);
    $("confirm-ok").onclick = () => finish(true);
    $("confirm-cancel").onclick = () => finish(false);
  });
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
function toast(text: string): void {
  const t = $("toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove("show"), 2500);
}

function parseRange(text: string | undefined): { lo: number; hi: number } | undefined {
  const m = /^(\d+)-(\d+)$/.exec(text ?? "");
  return m ? { lo: Number(m[1]), hi: Number(m[2]) } : undefined;
}

$("filter").addEventListener("input", draw);
$("prune").addEventListener("click", () => void prune());
document.addEventListener("keydown", (e) => {
  // "/" jumps to the filter, as on most dashboards.
  if (e.key === "/" && document.activeElement?.tagName !== "INPUT") {
    e.preventDefault();
    $("filter").focus();
  }
});
void refresh();
setInterval(() => void refresh(), POLL_MS);
