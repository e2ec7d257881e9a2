/**
 * Parsing of operator command arguments: durations and targets. Errors are
 * one line that doubles as the usage answer.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

export class UsageError extends Error {
  override name = "UsageError";
}

/** `30s`, `10m`, `2h`, `7d`, `2w` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([smhdw])$/.exec(text.trim().toLowerCase());
  if (!match) throw new UsageError(`"${text}" is not a duration: use e.g. 30s, 10m, 2h or 7d`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
}

/** Telegram treats a restriction under 30 s or over 366 days as forever; operators are told so. */
export function durationNote(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  if (seconds < 30) return "Telegram treats less than 30 seconds as forever";
  if (seconds > 366 * 86400) return "Telegram treats more than 366 days as forever";
  return undefined;
}

export type TargetSpec = { kind: "id"; id: number } | { kind: "username"; username: string };

export function parseTarget(text: string): TargetSpec {
  if (/^-?\d{1,16}$/.test(text)) return { kind: "id", id: Number(text) };
  if (/^@[A-Za-z0-9_]{4,32}$/.test(text)) return { kind: "username", username: text.slice(1) };
  throw new UsageError(
    `"${text}" is not a user: give a numeric id, an @username, or reply to their message`,
  );
}

/** Splits a command's argument text on whitespace. */
export function splitArgs(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}
