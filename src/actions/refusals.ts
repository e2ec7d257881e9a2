import type { Actor, AuditEntryInput } from "../audit/entry.ts";
import { actionKeys } from "../store/keys.ts";
import type { ActionEnv } from "./context.ts";

/**
 * Refused attempts on the record, without letting anyone who can reach the
 * bot grow a case's log at will. Every attempt by someone without the role
 * it needs is counted, per person and hour; the log gets the 1st, 2nd, 4th,
 * 8th … attempt of each person in an hour, each entry with the count so far
 * (`params.attempts`). Past the first 50 people in an hour, everyone else is
 * counted together (`others`), on the same doubling. So an hour adds at most
 * about 51 × log2(attempts) entries to a case's log, however many accounts an
 * adversary uses, and the count of the last entry of each person says at
 * least how many there were.
 */

/** How many people in one hour get entries of their own; the rest are counted as `others`. */
export const DISTINCT_PEOPLE_PER_HOUR = 50;
const HOUR_MS = 3_600_000;

/**
 * Counts one attempt in one atomic step, so concurrent attempts by new people
 * cannot push the hour past its limit: a person not yet counted, in an hour
 * that already counts the limit, is counted as `others`. Returns the field
 * and its count.
 */
const COUNT_SCRIPT = `
local field = ARGV[1]
if redis.call('HEXISTS', KEYS[1], field) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then
  field = 'others'
end
local n = redis.call('HINCRBY', KEYS[1], field, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {field, n}
`;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function whoOf(actor: Actor): string {
  return actor.id !== undefined
    ? `${actor.kind}:${actor.id}`
    : `${actor.kind}:${actor.name ?? "?"}`;
}

/**
 * Counts a refused attempt and records it if its count is a power of two.
 * Returns whether an entry was written. Never throws: a refusal that cannot
 * be recorded is logged, and nothing is done either way.
 */
export async function recordRefusal(
  env: ActionEnv,
  entry: Omit<AuditEntryInput, "phase"> & { actor: Actor },
): Promise<boolean> {
  const nowMs = (env.now?.() ?? Math.floor(Date.now() / 1000)) * 1000;
  const hour = Math.floor(nowMs / HOUR_MS);
  const key = actionKeys.refusals(entry.case, hour);
  try {
    const [field, attempts] = (await env.redis.eval(
      COUNT_SCRIPT,
      1,
      key,
      whoOf(entry.actor),
      DISTINCT_PEOPLE_PER_HOUR,
      2 * HOUR_MS,
    )) as [string, number];
    if (!isPowerOfTwo(attempts)) return false;
    await env.audit.record({
      ...entry,
      phase: "refused",
      params: {
        ...entry.params,
        attempts,
        ...(field === "others" ? { counted_with: "others" } : {}),
      },
    });
    return true;
  } catch (err) {
    env.logger.error(
      { case: entry.case, err: (err as Error).message },
      "could not record a refused attempt",
    );
    return false;
  }
}
