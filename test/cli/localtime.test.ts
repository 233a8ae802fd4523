// The tables' local time comes from the C library (not the engine's ICU, which costs a cold
// `portctl list` several ms): it must say what Date says, in every zone, as TZ changes.
import { afterEach, expect, test } from "bun:test";
import { localTime } from "../../src/cli/localtime.ts";

const saved = process.env.TZ;
afterEach(() => {
  if (saved === undefined) delete process.env.TZ;
  else process.env.TZ = saved;
});

/** What the engine's own conversion gives, as the reference. */
function viaDate(rfc3339: string): string {
  const d = new Date(rfc3339);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const INSTANTS = [
  "2025-02-08T15:04:05Z",
  "2025-07-01T23:59:59Z",
  "2024-12-31T23:30:00Z",
  // Either side of daylight-saving changes: New York and Berlin in 2025, Lord Howe (30 min).
  "2025-03-09T06:59:59Z",
  "2025-03-09T07:00:00Z",
  "2025-10-26T00:59:59Z",
  "2025-10-26T01:00:00Z",
  "2025-04-05T14:59:59Z",
  "2025-04-05T15:00:00Z",
];

test.each([
  "UTC",
  "Asia/Kolkata",
  "America/New_York",
  "Europe/Berlin",
  "Australia/Adelaide",
  "Australia/Lord_Howe",
])("in %s it agrees with Date, summer and winter, across midnight and the year", (tz) => {
  process.env.TZ = tz;
  for (const at of INSTANTS) expect(localTime(at)).toBe(viaDate(at));
});

test("known answers, whatever the machine's zone", () => {
  process.env.TZ = "Asia/Kolkata";
  expect(localTime("2025-02-08T15:04:05Z")).toBe("2025-02-08 20:34:05");
  process.env.TZ = "America/New_York";
  expect(localTime("2025-07-01T23:59:59Z")).toBe("2025-07-01 19:59:59");
  process.env.TZ = "UTC";
  expect(localTime("2025-02-08T15:04:05Z")).toBe("2025-02-08 15:04:05");
});

test("text that is not a date is printed as it came", () => {
  expect(localTime("yesterday")).toBe("yesterday");
});
