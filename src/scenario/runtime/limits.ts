import { parseDurationMs } from "../../base/duration.ts";
import type { Redis } from "../../store/redis.ts";

/**
 * Per-member and per-chat limits on a trigger ("warn a member once a day"),
 * on the scenario's clock (the simulator's in a rehearsal, where days pass in
 * seconds). Each key is a sorted set of the update ids that counted, scored
 * by time; one script checks every limit and counts the update in all of
 * them, or in none. A redelivered update that counted before counts as
 * allowed again, so a crash between counting and acting does not lose the
 * action (the action's own idempotency key keeps it from running twice).
 */

// KEYS: the limit sets. ARGV: now, update id, expiry ms, then per-key (window ms, count).
const LIMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local id = ARGV[2]
local seen = true
for i = 1, #KEYS do
  if not redis.call('ZSCORE', KEYS[i], id) then seen = false end
end
if seen then return 1 end
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 + 2 * i])
  local count = tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. tostring(now - window))
  if redis.call('ZCARD', KEYS[i]) >= count then return 0 end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, id)
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return 1
`;

export interface LimitCheck {
  key: string;
  count: number;
  per: string;
}

/** True when the update may fire under every limit (and is now counted). */
export async function withinLimits(
  redis: Redis,
  limits: LimitCheck[],
  nowMs: number,
  updateId: string,
): Promise<boolean> {
  if (limits.length === 0) return true;
  const windows = limits.map((l) => parseDurationMs(l.per));
  // Kept a day past the longest window on the real clock, which never runs faster than the scenario's.
  const expiry = Math.max(...windows) + 86_400_000;
  const args: (string | number)[] = [nowMs, updateId, expiry];
  limits.forEach((l, i) => {
    args.push(windows[i] as number, l.count);
  });
  const result = await redis.eval(
    LIMIT_SCRIPT,
    limits.length,
    ...limits.map((l) => l.key),
    ...args,
  );
  return result === 1;
}

// KEYS[1]: the member's offences on a ladder. ARGV: now, update id, reset window ms (0: never), expiry ms.
const LADDER_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
if window > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - window))
end
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[2])
if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return redis.call('ZRANK', KEYS[1], ARGV[2]) + 1
`;

/** The member's offence number on a ladder for this update (1 for the first); the same on redelivery. */
export async function offenceNumber(
  redis: Redis,
  key: string,
  nowMs: number,
  updateId: string,
  resetAfter?: string,
): Promise<number> {
  const window = resetAfter ? parseDurationMs(resetAfter) : 0;
  const result = await redis.eval(
    LADDER_SCRIPT,
    1,
    key,
    nowMs,
    updateId,
    window,
    window > 0 ? window + 86_400_000 : 0,
  );
  return Number(result);
}
