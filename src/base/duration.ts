import { UsageError } from "./usage-error.ts";

/**
 * Durations, one grammar wherever people write them (operator commands,
 * scenarios): `30s`, `10m`, `2h`, `3d`, `1w`, or several of them in a row from
 * the largest unit down (`1d12h`). Written as text so that a command or a
 * scenario reads like what it means; parsed once.
 */

export const DURATION_PATTERN =
  "^(?:\\d{1,6}w)?(?:\\d{1,6}d)?(?:\\d{1,6}h)?(?:\\d{1,6}m)?(?:\\d{1,6}s)?$";

const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /(\d{1,6})([wdhms])/g;
const UNIT_MS: Record<string, number> = {
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

export const DURATION_HINT = "write a duration such as 30s, 10m, 2h, 3d, 1w or 1d12h";

/** True for a well-formed, non-zero duration. */
export function isDuration(text: string): boolean {
  return text.length > 0 && DURATION_RE.test(text) && parseDurationMs(text) > 0;
}

/** Milliseconds; throws a `UsageError` with a hint on anything else. */
export function parseDurationMs(text: string): number {
  if (!DURATION_RE.test(text) || text.length === 0)
    throw new UsageError(`"${text}" is not a duration: ${DURATION_HINT}`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_RE))
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  return total;
}

/** Whole seconds, for Telegram's `until_date` arithmetic. */
export function parseDurationSeconds(text: string): number {
  return Math.floor(parseDurationMs(text) / 1000);
}

/** A duration as people say it: `3d`, `2h 30m`. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / 1000));
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join(" ") || "0s";
}
