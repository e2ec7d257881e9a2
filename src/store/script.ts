import { createHash } from "node:crypto";
import type { Redis } from "./redis.ts";

/**
 * Lua scripts whose every key is declared in KEYS, however many a call has.
 *
 * Redis Cluster redirects a script by the keys it declares, and only by them:
 * while a slot moves between masters (`redis-cli --cluster reshard`), a
 * script whose declared keys are all still on the old master runs there, one
 * whose keys are all gone is sent on (ASK), and one with some on each side is
 * refused for now (TRYAGAIN) and tried again. A key a script builds or reads
 * from ARGV escapes this: the script can write it on the old master after
 * the new one has taken it, where the move leaves it behind (data lost, as
 * tests/cluster/resharding.test.ts saw) or stops ("Value check failed"). So a
 * script of Warden's names every key it reads or writes in KEYS, each once
 * (`declareKeys`), and finds them there by index — never by building one.
 */

/** A script's text and its SHA-1, by which Redis runs it without its text being sent again. */
export interface LuaScript {
  lua: string;
  sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * Runs `script` with `keys` as KEYS and `argv` as ARGV: EVALSHA, and EVAL
 * when the node does not have the script yet (NOSCRIPT: a new node, a
 * restart, a slot that moved), as ioredis's own `defineCommand` does — which
 * cannot be used here, as the embedded Redis of rehearsals (ioredis-mock)
 * needs a command's key count fixed when it is defined.
 */
export async function runScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  argv: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...argv);
  } catch (err) {
    if (!/^NOSCRIPT/.test((err as Error)?.message ?? "")) throw err;
    return redis.eval(script.lua, keys.length, ...keys, ...argv);
  }
}

/** The KEYS of one script call, each once, in the order they were first named. */
export interface DeclaredKeys {
  /** KEYS[1] is `list[0]`. */
  readonly list: string[];
  /** Each key's index in KEYS (1-based, as Lua counts). */
  readonly index: Map<string, number>;
}

/** Starts the KEYS of a call with the keys its script expects at fixed places (KEYS[1], KEYS[2]…). */
export function declareKeys(fixed: readonly string[]): DeclaredKeys {
  const declared: DeclaredKeys = { list: [], index: new Map() };
  for (const key of fixed) keyIndex(declared, key);
  return declared;
}

/** The index of `key` in KEYS, declaring it if it is not yet. */
export function keyIndex(declared: DeclaredKeys, key: string): number {
  let at = declared.index.get(key);
  if (at === undefined) {
    at = declared.list.push(key);
    declared.index.set(key, at);
  }
  return at;
}

/**
 * Whether Redis Cluster refused a script because its keys' slot is being
 * moved and they are split between the two masters for now: TRYAGAIN, after
 * ioredis's own retries ran out (`maxRedirections`, src/store/redis.ts).
 * ioredis sends a step refused with TRYAGAIN to a random master, which
 * answers MOVED (or ASK), so the last refusal it reports can be either. Each
 * was a refusal before the script ran: it did not run, the same call can be
 * sent again, and goes through once the move is done.
 */
export function isSlotMoving(err: unknown): boolean {
  return /^(TRYAGAIN |Too many Cluster redirections\. Last error: (ReplyError: )?(TRYAGAIN|MOVED|ASK) )/.test(
    (err as Error)?.message ?? "",
  );
}
