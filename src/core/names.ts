// Names under `.localhost`: each allocation's hostname, derived from app, instance and service
// when it is inserted and kept in its row (UNIQUE), so it never changes while the allocation
// lives and two allocations never share one. A name is a view of an allocation: it is freed with
// the row, and the proxy (server/proxy/) reads it through the store like any route.
//
//   main checkout        web.shop.localhost            (and shop.localhost: its main web service)
//   linked worktree      web.fix-ui.shop.localhost     (and fix-ui.shop.localhost)
//   taken already        web-2.fix-ui.shop.localhost
//   another user (bob)   web.shop.bob.localhost, web.fix-ui.shop.bob.localhost (owners.label)
import { statSync } from "node:fs";
import { join } from "node:path";
import { MAIN_WEB_SERVICE, NAME_DOMAIN } from "./config.ts";
import { transliterate } from "./envkey.ts";
import { PortError } from "./errors.ts";

/** A DNS label: ASCII letters (lower case), digits and inner hyphens, 1-63 characters. */
export const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The longest hostname DNS allows. */
export const MAX_HOST_LENGTH = 253;
/**
 * What a chosen name may be (the API's `name`): DNS labels in any case, a final dot allowed, at
 * most MAX_CHOSEN_LENGTH so that it still fits once `.localhost` is added.
 */
const ANY_CASE_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
export const CHOSEN_NAME = new RegExp(`^${ANY_CASE_LABEL}(?:\\.${ANY_CASE_LABEL})*\\.?$`);
export const MAX_CHOSEN_LENGTH = MAX_HOST_LENGTH - NAME_DOMAIN.length - 1;

/**
 * `Shop App` → `shop-app`, `Café` → `cafe`, `feature/login` → `feature-login`: transliterated
 * as the environment keys are, every other run of characters one hyphen, at most 63. A name
 * with nothing Latin in it (`数据库`) gets `n-` and a hash of it, so it still has a label.
 */
export function dnsLabel(text: string): string {
  const label = cut(
    transliterate(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, ""),
    63,
  );
  return label || `n-${hash(text)}`;
}

export interface NameParts {
  app: string;
  instance: string;
  service: string;
}

/**
 * The names to try, best first. The short form (no instance label) is offered only to a
 * checkout that is not a linked worktree; then the instance's; then numbered (`web-2`).
 */
export function* nameCandidates(a: NameParts, short: boolean, user?: string): Generator<string> {
  const app = dnsLabel(a.app);
  const instance = dnsLabel(a.instance);
  const service = dnsLabel(a.service);
  // Another user's names end in their label: `web.shop.bob.localhost` (#28).
  const tail = user === undefined ? [app] : [app, user];
  if (short) yield fit([service, ...tail]);
  yield fit([service, instance, ...tail]);
  for (let n = 2; n < 1000; n++)
    yield fit([`${cut(service, 62 - String(n).length)}-${n}`, instance, ...tail]);
}

/**
 * The first derived name that `taken` does not refuse (the checkout decides the short form);
 * `user`: the owner's label when the owner is not the daemon's user (owners.label).
 */
export function freeName(
  a: NameParts & { checkout?: string | null | undefined },
  taken: (name: string) => boolean,
  user?: string,
): string {
  for (const name of nameCandidates(a, !isLinkedWorktree(a.checkout), user)) {
    if (!taken(name)) return name;
  }
  throw new PortError("storage", `no free name left for ${a.app}/${a.instance}/${a.service}`);
}

/**
 * A name a user chose (`--name admin.shop`, or the full `admin.shop.localhost`): DNS labels
 * separated by dots, case folded; the `.localhost` suffix is added when missing.
 */
export function parseChosenName(text: string): string {
  if (!CHOSEN_NAME.test(text) || text.length > MAX_CHOSEN_LENGTH) {
    const bad = text.split(".").find((l) => !LABEL.test(l.toLowerCase()));
    const why =
      bad === undefined
        ? `more than ${MAX_CHOSEN_LENGTH} characters`
        : bad === ""
          ? "an empty label"
          : `'${bad}'`;
    throw new PortError(
      "bad_request",
      `name must be DNS labels (letters, digits, inner hyphens; at most 63 each) separated by dots, such as admin.shop; got ${why}`,
    );
  }
  let name = text.toLowerCase().replace(/\.$/, "");
  if (name.endsWith(`.${NAME_DOMAIN}`)) name = name.slice(0, -(NAME_DOMAIN.length + 1));
  return `${name}.${NAME_DOMAIN}`;
}

/**
 * The name a request's Host stands for, as well as the name itself: `shop.localhost` is also
 * the main web service's `web.shop.localhost` (tried when no allocation is named exactly so).
 */
export function aliasOf(host: string): string {
  return `${MAIN_WEB_SERVICE}.${host}`;
}

/** `http://web.shop.localhost:8080`, the port left out when it is 80. */
export function urlOf(name: string, proxyPort: number): string {
  return proxyPort === 80 ? `http://${name}` : `http://${name}:${proxyPort}`;
}

/** Whether a checkout is a linked worktree (its `.git` is a file): those names carry the instance. */
export function isLinkedWorktree(checkout: string | null | undefined): boolean {
  if (!checkout) return false;
  try {
    return statSync(join(checkout, ".git")).isFile();
  } catch {
    return false;
  }
}

// --- internal ---

/** Labels + the domain, each label shortened so the whole stays within 253 characters. */
function fit(labels: string[]): string {
  const host = `${labels.join(".")}.${NAME_DOMAIN}`;
  if (host.length <= MAX_HOST_LENGTH) return host;
  const room = Math.floor((MAX_HOST_LENGTH - NAME_DOMAIN.length - labels.length) / labels.length);
  return `${labels.map((l) => cut(l, room)).join(".")}.${NAME_DOMAIN}`;
}

/** At most `max` characters, never ending on a hyphen. */
function cut(label: string, max: number): string {
  return label.slice(0, max).replace(/-+$/, "");
}

/** FNV-1a, 8 hex digits: a stable label for a name without Latin letters. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
