// From a request's Host to where it may go: an allocation's port on loopback, one of our own
// pages, or a refusal. Only names under .localhost are served, with no port or the proxy's own;
// an IP literal or any other domain is refused (a DNS-rebinding page sends its own domain).
import { NAME_DOMAIN } from "../../core/config.ts";
import type { Allocation } from "../../core/model.ts";
import { aliasOf, LABEL, MAX_HOST_LENGTH } from "../../core/names.ts";
import type { Store } from "../../core/store.ts";

/**
 * A route to a service is open to anyone who could connect to its port anyway; the pages that
 * list names list the client's own only (`visible`, proxy/viewer.ts), #28.
 */
export type Route =
  | { kind: "allocation"; allocation: Allocation; name: string }
  | { kind: "index"; names: Allocation[] }
  | { kind: "unknown"; name: string; names: Allocation[] }
  | { kind: "refused"; status: 400 | 403; reason: string };

/**
 * Where a request with this Host goes, given the port the proxy listens on; `visible` gives the
 * names the client may see listed (asked only for a page that lists them).
 */
export function route(
  store: Store,
  hostField: string,
  proxyPort: number,
  visible: () => Allocation[],
): Route {
  const host = parseHost(hostField, proxyPort);
  if (typeof host !== "string") return host;
  if (host === NAME_DOMAIN) return { kind: "index", names: visible() };
  const allocation = store.byName(host) ?? store.byName(aliasOf(host));
  if (allocation) return { kind: "allocation", allocation, name: host };
  return { kind: "unknown", name: host, names: sameApp(visible(), host) };
}

/**
 * The lower-case name a Host field stands for, or why it is refused. The port, when given,
 * must be the proxy's: `web.shop.localhost:5432` names another service's port.
 */
export function parseHost(field: string, proxyPort: number): string | Route {
  if (field.length > MAX_HOST_LENGTH + 7) return refused(400, "Host is too long");
  const value = field.toLowerCase();
  if (value.startsWith("[")) return refused(403, "IP addresses are not served, only names");
  const colon = value.lastIndexOf(":");
  let name = colon < 0 ? value : value.slice(0, colon);
  if (colon >= 0 && value.slice(colon + 1) !== String(proxyPort)) {
    return refused(
      400,
      `Host names port ${JSON.stringify(value.slice(colon + 1))}, not this proxy's ${proxyPort}`,
    );
  }
  if (name.endsWith(".")) name = name.slice(0, -1);
  if (IPV4ISH.test(name)) return refused(403, "IP addresses are not served, only names");
  if (name !== NAME_DOMAIN && !name.endsWith(`.${NAME_DOMAIN}`)) {
    return refused(403, `only names under .${NAME_DOMAIN} are served`);
  }
  if (!name.split(".").every((label) => LABEL.test(label))) {
    return refused(400, "Host is not a valid name (letters, digits, inner hyphens, dots)");
  }
  return name;
}

// --- internal ---

/** What a resolver would take for an IPv4 address: dotted decimal, hex or octal parts, 1-4 of them. */
const IPV4ISH = /^(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}$/;

function refused(status: 400 | 403, reason: string): Route {
  return { kind: "refused", status, reason };
}

/** The allocations whose names end in the unknown name's app label (`x.shop.localhost` → shop). */
function sameApp(all: Allocation[], host: string): Allocation[] {
  const labels = host.split(".");
  const app = labels[labels.length - 2];
  const suffix = `.${app}.${NAME_DOMAIN}`;
  const mine = all.filter((a) => a.name.endsWith(suffix) || a.name === suffix.slice(1));
  return mine.length > 0 ? mine : all;
}
