// The dashboard's "copy SERVICE_PORT=n" button must name the variable exactly as `portctl env`
// does, or the copied line sets a variable nothing reads.
import { expect, test } from "bun:test";
import { envKey as cliKey } from "../../src/cli/envfile.ts";
import { envKey as dashboardKey } from "../../src/server/ui/render.ts";

test.each([
  "postgres",
  "web-api",
  "3d",
  "web--api",
  "web_",
  "_web",
  "café-api",
  "smørrebrød",
  "straße",
  "Œuvre",
])("%s: the dashboard's key is portctl env's", (service) => {
  expect(dashboardKey(service)).toBe(cliKey(service));
});
