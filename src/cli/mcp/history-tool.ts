// The `history` tool: who had a port and when it changed, newest first, as `portctl history`.
import { z } from "zod";
import { EVENTS_KEEP } from "../../core/config.ts";
import { eventSchema } from "../../core/model.ts";
import { defineTool, optionalName, portArg, READ_ONLY, strictArgs } from "./schemas.ts";

export const historyTool = defineTool({
  name: "history",
  title: "Port history",
  description:
    "Who had a port and when it changed (allocated, released, taken over, pruned, lease ended, imported), newest first. " +
    "Use it to find out whose a port was, e.g. when something still expects a port that check says is free.",
  input: strictArgs({
    port: portArg.optional().describe("Only this port."),
    app: optionalName("Only this app."),
    instance: optionalName("Only this instance."),
    service: optionalName("Only this service."),
    since: z
      .string()
      .min(1, { error: "must not be empty" })
      .optional()
      .describe(
        "Only events since then: a duration back from now (30m, 3h, 1d, 2w) or an RFC 3339 time.",
      ),
    limit: z
      .number()
      .int({ error: `must be an integer between 1 and ${EVENTS_KEEP}` })
      .min(1, { error: `must be an integer between 1 and ${EVENTS_KEEP}` })
      .max(EVENTS_KEEP, { error: `must be an integer between 1 and ${EVENTS_KEEP}` })
      .optional()
      .describe("At most this many events (default 1000)."),
  }),
  output: z.object({ events: z.array(eventSchema) }),
  annotations: READ_ONLY,
  async run(args, { client }) {
    return { events: await client.events(args) };
  },
});
