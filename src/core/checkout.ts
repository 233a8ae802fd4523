// Which checkout owns an allocation. An allocation records the worktree it was made from; a
// second checkout (another clone on the same branch) reusing its name is refused while the
// first still exists, and takes it over once that folder is gone.

import { statSync } from "node:fs";
import { PortError } from "./errors.ts";
import type { Allocation } from "./model.ts";

/** Whether a recorded checkout is still there: a folder at that path. */
export type CheckoutExists = (path: string) => boolean;

/**
 * A folder at that path; or one we may not look into (a system service's daemon cannot enter
 * another user's 0700 home, #28): prune and take-over must never free what they cannot see, so
 * only "no such file" and "not a folder" count as gone.
 */
export const checkoutExists: CheckoutExists = (path) => {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== "ENOENT" && code !== "ENOTDIR";
  }
};

export type Ownership =
  | { verdict: "same" }
  | { verdict: "take_over"; reason: string }
  | { verdict: "refuse"; error: PortError };

/** What a reuse of `existing` from `checkout` (null: the caller sent none) amounts to. */
export function ownership(
  existing: Allocation,
  checkout: string | null | undefined,
  exists: CheckoutExists,
): Ownership {
  const owner = existing.checkout;
  if (!checkout || owner === checkout) return { verdict: "same" };
  if (owner === null) {
    return { verdict: "take_over", reason: "recorded before checkouts were tracked" };
  }
  if (!exists(owner)) {
    return { verdict: "take_over", reason: `the checkout at ${owner} no longer exists` };
  }
  const name = `${existing.app}/${existing.instance}/${existing.service}`;
  return {
    verdict: "refuse",
    error: new PortError(
      "other_checkout",
      `${name} belongs to the checkout at ${owner}; this one is ${checkout}`,
      existing,
      { checkout },
    ),
  };
}
