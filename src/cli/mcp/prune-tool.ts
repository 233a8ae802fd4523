// The `prune` tool: the allocations of checkouts that no longer exist (a deleted worktree or
// clone), and with unused_for those not seen listening for that long; listed by default,
// released only with dry_run: false, as `portctl prune [--yes]`.
import { z } from "zod";
import { durationSchema } from "../../core/events.ts";
import { systemUseSchema } from "../../core/model.ts";
import { allocationOut, DESTRUCTIVE, defineTool, strictArgs } from "./schemas.ts";

export const pruneTool = defineTool({
  name: "prune",
  title: "Prune stale allocations",
  description:
    "Find the allocations whose checkout folder no longer exists (a deleted git worktree or clone), and with unused_for also those whose port has not been seen listening for that long. " +
    "By default only lists them (dry_run: true); with dry_run: false releases them. Never touches an allocation without a recorded checkout, or one whose port is listening right now: those are in kept, with who listens (the container still publishing it, where the engine says). " +
    "Use it after deleting worktrees, or when the range fills up.",
  input: strictArgs({
    dry_run: z
      .boolean()
      .default(true)
      .describe("true (default): only list what would be released; false: release it."),
    unused_for: z
      .string()
      .refine((v) => durationSchema.safeParse(v).success, {
        error: "must be a duration such as 30m, 3h, 1d or 2w",
      })
      .optional()
      .describe("Also select ports not seen listening for this long: 30m, 3h, 1d, 2w."),
  }),
  output: z.object({
    dry_run: z.boolean(),
    candidates: z
      .array(
        z.object({
          allocation: allocationOut,
          cause: z.enum(["checkout_gone", "unused"]),
          reason: z.string().describe("the same, in words"),
        }),
      )
      .describe("what was released (dry_run: what would be)"),
    kept: z
      .array(
        z.object({
          allocation: allocationOut,
          cause: z.enum(["checkout_gone", "unused"]),
          reason: z.string().describe("who still listens, in words"),
          system: systemUseSchema,
        }),
      )
      .optional()
      .describe("selected but kept: something listens on the port now"),
  }),
  annotations: DESTRUCTIVE,
  async run(args, { client }) {
    return client.prune({
      dry_run: args.dry_run,
      ...(args.unused_for === undefined ? {} : { unused_for: args.unused_for }),
    });
  },
});
