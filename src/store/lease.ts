import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";

/**
 * A lease in Redis with a fencing token: at most one process holds it at a
 * time, for `ttlMs` after its last renewal, and each new holder gets a token
 * higher than every one before (an INCR of the fence key, which never
 * expires). What a holder writes under its lease carries its token, and the
 * script that writes it refuses the write once the fence has moved past that
 * token: a holder that was paused (a long GC, SIGSTOP, a lost network) past
 * its lease and wakes up believing it still holds it cannot write over what
 * its successor did.
 *
 * Keys: a hash (`holder`, `token`) that expires, and the fence, a counter;
 * both under one hash tag, so one script reads and writes them together.
 *
 * Holding is also judged locally, on this process's monotonic clock: a lease
 * counts as held until `ttlMs - margin` after the renewal was *sent*, so a
 * process that was frozen does not act on a lease it may have lost before it
 * has heard from Redis again (see `LeaseHandle.held`).
 */

export interface LeaseKeys {
  /** The lease hash (`holder`, `token`), with a time to live. */
  lease: string;
  /** The fence: the last token granted. Never expires. */
  fence: string;
}

// KEYS: lease, fence. ARGV: holder, ttl (ms), the token the caller held before ("0" if none).
// Returns {token, holder}: token > 0 when the caller holds the lease now; otherwise 0 and who does.
// A holder that renews keeps its token; a lease that lapsed and was taken by nobody since is given
// back with the same token (nothing newer was granted, so nothing written under it is stale).
const ACQUIRE = `
local holder = redis.call('HGET', KEYS[1], 'holder')
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {tonumber(redis.call('HGET', KEYS[1], 'token')), holder}
end
if holder then return {0, holder} end
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
local token
if tonumber(ARGV[3]) > 0 and tonumber(ARGV[3]) == fence then token = fence
else token = redis.call('INCR', KEYS[2]) end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {token, ARGV[1]}
`;

// KEYS: lease. ARGV: holder. Gives the lease up only if the caller holds it.
const RELEASE = `
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export type Acquired = { token: number } | { heldBy: string };

/** Takes the lease if it is free, renews it if `holder` holds it. */
export async function acquireLease(
  redis: Redis,
  keys: LeaseKeys,
  holder: string,
  ttlMs: number,
  previousToken = 0,
): Promise<Acquired> {
  const [token, by] = (await redis.eval(
    ACQUIRE,
    2,
    keys.lease,
    keys.fence,
    holder,
    Math.ceil(ttlMs),
    previousToken,
  )) as [number, string];
  return Number(token) > 0 ? { token: Number(token) } : { heldBy: String(by) };
}

export async function releaseLease(redis: Redis, keys: LeaseKeys, holder: string): Promise<void> {
  await redis.eval(RELEASE, 1, keys.lease, holder);
}

/**
 * The Lua test a fenced write starts with: `fenceKey` names the fence key (a
 * Lua expression), `token` the caller's token; a newer token granted since
 * ends the script with `refusal`.
 */
export function luaFenceCheck(fenceKey: string, token: string, refusal: string): string {
  return `if tonumber(redis.call('GET', ${fenceKey}) or '0') ~= tonumber(${token}) then return ${refusal} end`;
}

/** How long a lease lives unless renewed, and how often a holder renews it. */
export const LEASE_TTL_MS = 5000;
export const LEASE_RENEW_MS = 1000;
/** A lease counts as held locally until this long before Redis would let it lapse. */
const MARGIN_MS = 500;

export interface LeaseHandle {
  /** The token while the lease is held (judged locally), otherwise undefined. */
  held(): number | undefined;
  /** The last token this process held, whether or not it still holds it. */
  lastToken(): number;
  /** Takes or renews the lease now; resolves with the token, or undefined when another holds it. */
  renew(): Promise<number | undefined>;
  /** Who held it when this process last failed to take it. */
  heldBy(): string | undefined;
  release(): Promise<void>;
}

/**
 * One lease as one process sees it: `renew` (called on a timer by the owner
 * of the handle) takes or renews it and remembers until when it is surely
 * still held. `onLost` is called when a renewal finds it taken by another or
 * the fence moved past this process's token.
 */
export function leaseHandle(opts: {
  redis: Redis;
  keys: LeaseKeys;
  holder: string;
  ttlMs?: number;
  onLost?: (token: number, heldBy: string | undefined) => void;
}): LeaseHandle {
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS;
  let token = 0;
  let validUntil = 0;
  let holding = false;
  let other: string | undefined;
  return {
    held: () => (holding && performance.now() < validUntil ? token : undefined),
    lastToken: () => token,
    heldBy: () => other,
    async renew() {
      const sent = performance.now();
      let got: Acquired;
      try {
        got = await acquireLease(opts.redis, opts.keys, opts.holder, ttlMs, token);
      } catch (err) {
        // Redis did not answer: the lease is held as long as the last renewal said, no longer.
        if (holding && performance.now() >= validUntil) {
          holding = false;
          opts.onLost?.(token, undefined);
        }
        throw err;
      }
      if ("token" in got) {
        const lost = holding && got.token !== token;
        if (lost) opts.onLost?.(token, undefined);
        token = got.token;
        holding = true;
        other = undefined;
        validUntil = sent + ttlMs - MARGIN_MS;
        return token;
      }
      other = got.heldBy;
      if (holding) {
        holding = false;
        opts.onLost?.(token, got.heldBy);
      }
      return undefined;
    },
    async release() {
      holding = false;
      validUntil = 0;
      await releaseLease(opts.redis, opts.keys, opts.holder);
    },
  };
}
