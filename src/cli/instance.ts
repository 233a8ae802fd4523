// A second clone on the same branch: its folder gives the instance (`main`) that the first
// clone's rows hold. It runs once with `--instance review`; from then on its commands find
// `review` by their checkout, since the registry records which checkout each row belongs to.
// With no row of its own, the other checkout's rows are refused, never shown as this one's.
import { existsSync } from "node:fs";
import { PortError } from "../core/errors.ts";
import type { Allocation } from "../core/model.ts";
import type { Client } from "./client.ts";
import { detectCheckoutPath } from "./detect.ts";

export interface Owned {
  instance: string;
  rows: Allocation[];
}

/**
 * `rows` are what app/instance (as the folder gives them) holds. When another checkout that
 * still exists holds them: the one instance of `app` whose rows are this checkout's, with those
 * rows; none or several: `other_checkout` (pass --instance). Otherwise undefined (as given).
 */
export async function ownInstance(
  client: Client,
  app: string,
  rows: readonly Allocation[],
  cwd: string,
): Promise<Owned | undefined> {
  const here = detectCheckoutPath(cwd);
  const other = rows.find((r) => r.checkout !== null && r.checkout !== here);
  if (!other?.checkout || !existsSync(other.checkout)) return undefined;
  const mine = (await client.list({ app })).filter((r) => r.checkout === here);
  const instances = [...new Set(mine.map((r) => r.instance))];
  if (instances.length === 1) {
    const instance = instances[0] as string;
    return { instance, rows: mine.filter((r) => r.instance === instance) };
  }
  throw new PortError(
    "other_checkout",
    `${other.app}/${other.instance} belongs to the checkout at ${other.checkout}; this one is ${here}${instances.length > 1 ? ` (its ports are under ${instances.join(", ")})` : ""}`,
  );
}
