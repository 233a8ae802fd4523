// Wall-clock time in the user's zone for the tables (`list`'s CREATED). The JavaScript engine's
// own local-time conversion loads ICU's time-zone data on first use, 4-10 ms of a `portctl list`
// that otherwise takes about 10 ms; the C library's localtime_r reads the same zone (TZ, else
// /etc/localtime) in microseconds. It is asked for the zone's UTC offset once per quarter hour
// of time (every offset change since 1900 falls on one), the rest is arithmetic; where there is
// no C library to call, Date gives the offset.
import { FFIType } from "bun:ffi";
import { openLibc } from "../core/libc.ts";

/** `2025-02-08 16:04:05` for `2025-02-08T15:04:05Z` in Europe/Berlin; text that is no date as given. */
export function localTime(rfc3339: string): string {
  // Rows registered together share their second: each distinct one is worked out once.
  const tz = process.env.TZ;
  const key = `${tz ?? ""} ${rfc3339}`;
  let text = formatted.get(key);
  if (text === undefined) {
    const ms = Date.parse(rfc3339);
    if (Number.isNaN(ms)) return rfc3339;
    const d = new Date(ms + offsetSeconds(ms, tz) * 1000);
    text = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    formatted.set(key, text);
  }
  return text;
}

// --- internal ---

const QUARTER_HOUR_MS = 15 * 60 * 1000;
/** Answers by zone and timestamp; a CLI process formats one table, so it stays small. */
const formatted = new Map<string, string>();
/** Offset (seconds east of UTC) per quarter hour, for the TZ in `cachedFor`. */
const offsets = new Map<number, number>();
let cachedFor: string | undefined;

function p2(n: number): string {
  return String(n).padStart(2, "0");
}

function offsetSeconds(ms: number, tz: string | undefined): number {
  if (tz !== cachedFor) {
    offsets.clear();
    cachedFor = tz;
  }
  const bucket = Math.floor(ms / QUARTER_HOUR_MS);
  let offset = offsets.get(bucket);
  if (offset === undefined) {
    const at = bucket * QUARTER_HOUR_MS;
    offset = viaLibc(at, tz) ?? -new Date(at).getTimezoneOffset() * 60;
    offsets.set(bucket, offset);
  }
  return offset;
}

/** What libc sees: the environment this process started with (process.env is a copy). */
const startTz = process.env.TZ;
let libc: ReturnType<typeof loadTime> | null | undefined;
let setTz: ReturnType<typeof loadEnv> | undefined;
let appliedTz = startTz;
// struct tm: nine ints (sec, min, hour, …) padded to 40 bytes, then long tm_gmtoff, tm_zone.
const tm = new BigInt64Array(8);
const time = new BigInt64Array(1);

function loadTime() {
  return openLibc({
    localtime_r: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.ptr },
    tzset: { args: [], returns: FFIType.void },
  });
}

/** Only when TZ has changed since start (tests do that in-process). */
function loadEnv() {
  return openLibc({
    setenv: { args: [FFIType.cstring, FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
    unsetenv: { args: [FFIType.cstring], returns: FFIType.i32 },
  });
}

function viaLibc(ms: number, tz: string | undefined): number | undefined {
  if (libc === undefined) {
    try {
      libc = loadTime();
      libc.tzset();
    } catch {
      libc = null;
    }
  }
  if (!libc) return undefined;
  // A TZ changed in-process reaches libc only through here.
  if (tz !== appliedTz) {
    setTz ??= loadEnv();
    if (tz === undefined) setTz.unsetenv(cstr("TZ"));
    else setTz.setenv(cstr("TZ"), cstr(tz), 1);
    libc.tzset();
    appliedTz = tz;
  }
  time[0] = BigInt(Math.floor(ms / 1000));
  if (!libc.localtime_r(time, tm)) return undefined;
  return Number(tm[5]);
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}
