/**
 * `until:` times. An ISO instant with its offset is absolute; `HH:MM` is the
 * next time the scenario's time zone shows that hour and minute (so "09:00"
 * on a Dutch case means nine in the morning in the Netherlands, summer or
 * winter).
 */

export const DEFAULT_TIMEZONE = "Europe/Amsterdam";
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export const UNTIL_HINT =
  "write an instant with its offset (2026-12-31T23:00:00+01:00) or a time of day (09:00)";

export function isUntil(text: string): boolean {
  return HHMM.test(text) || (ISO.test(text) && !Number.isNaN(Date.parse(text)));
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds since the epoch at which `until` is reached, seen from `nowMs`. */
export function untilMs(text: string, nowMs: number, zone = DEFAULT_TIMEZONE): number {
  const m = HHMM.exec(text);
  if (!m) {
    if (!isUntil(text)) throw new Error(`"${text}" is not a time: ${UNTIL_HINT}`);
    return Date.parse(text);
  }
  const [hour, minute] = [Number(m[1]), Number(m[2])];
  // Today's date in the zone, then that wall time converted back to UTC; tomorrow if already past.
  for (let day = 0; day < 3; day++) {
    const local = wallDate(nowMs + day * 86_400_000, zone);
    const guess = Date.UTC(local.year, local.month - 1, local.day, hour, minute);
    const at = guess - offsetMs(guess, zone);
    if (at > nowMs) return at;
  }
  return nowMs;
}

function wallDate(ms: number, zone: string): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(ms);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { year: get("year"), month: get("month"), day: get("day") };
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetMs(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(ms);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}
