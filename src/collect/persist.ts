import type { Redis } from "ioredis";
import type { RedisWrite } from "../store/cases.ts";
import { collectParts } from "./keys.ts";

/**
 * One update's facts, written in one atomic step that first checks the update
 * was not persisted before: a redelivered update changes nothing.
 */

export interface MemberFact {
  userId: number;
  /** JSON of the profile fields Telegram sent. */
  profile: string;
  /**
   * JSON array `[first name, last name, username]` (null when absent). When it
   * changes, `{"name": <this>, "seen": <ms>}` is appended to the member's name
   * history (built in the step: no JSON library is needed in Lua, which the
   * embedded Redis of rehearsals lacks).
   */
  nameSignature: string;
  /** Lower-cased username for the username index, or "". */
  usernameLower: string;
  /** Counter to increment (e.g. `count:text`), or "" for none. */
  countField: string;
}

/**
 * A hash field set only if absent, and a counter bumped only when it was set:
 * how an offer is counted once per message however often it is edited.
 * Keys are parts (see `collectParts`), as everywhere in `UpdateFacts`.
 */
export interface OnceWrite {
  key: string;
  field: string;
  value: string;
  counterKey: string;
  counterField: string;
}

/**
 * One update's facts in one case. Every key is a part after the case's
 * prefix (`collectParts`); the atomic step adds the prefix, so keys cannot
 * leave the case's hash slot.
 */
export interface UpdateFacts {
  /** `warden:{<case>}:` */
  prefix: string;
  updateId: number;
  receivedAt: number;
  members: MemberFact[];
  once: OnceWrite[];
  /** Commands whose second element is a key part. */
  writes: RedisWrite[];
  /** A chat-state hash (part) whose `frozen` field the step should report (for the trade guard). */
  stateKey?: string;
}

export interface PersistResult {
  /** False when the update had been persisted before. */
  applied: boolean;
  /** The chat's freeze mode when `stateKey` was given ("" when not frozen). */
  frozen?: string;
}

// KEYS[1]: the case's set of persisted update ids. ARGV: prefix, update id, now, state part or "",
// member count, 5 fields per member (id, profile JSON, name signature, lower-cased username,
// counter), once count, 5 fields per once, write count, then (argc, argv…)
// per write with a key part second. Member keys are built here from the prefix and the user id,
// exactly as collectParts builds them (member:<id>, member:<id>:names, members, usernames).
// Positional arguments: no JSON to build in Node or decode in Lua, and user text is never escaped
// twice.
const PERSIST_SCRIPT = `
local p = ARGV[1]
local frozen = nil
if ARGV[4] ~= '' then frozen = redis.call('HGET', p .. ARGV[4], 'frozen') or '' end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[2]) == 0 then return {0, frozen} end
local now = ARGV[3]
local i = 5
local nMembers = tonumber(ARGV[i]); i = i + 1
for _ = 1, nMembers do
  local userId, profile, sig, usernameLower, countField = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  i = i + 5
  local memberKey = p .. 'member:' .. userId
  -- One read and one write per member: the script runs atomically, so read-then-write is safe.
  local field = countField ~= '' and countField or 'last_seen'
  local had = redis.call('HMGET', memberKey, 'first_seen', 'name_sig', 'profile', field)
  local set = {'last_seen', now}
  -- A missing field is false in Redis and null in the embedded Redis of rehearsals: test for a string.
  if type(had[1]) ~= 'string' then
    set[#set + 1] = 'first_seen'; set[#set + 1] = now
    redis.call('ZADD', p .. 'members', now, userId)
  end
  if had[3] ~= profile then set[#set + 1] = 'profile'; set[#set + 1] = profile end
  if had[2] ~= sig then
    set[#set + 1] = 'name_sig'; set[#set + 1] = sig
    redis.call('RPUSH', memberKey .. ':names', '{"name":' .. sig .. ',"seen":' .. now .. '}')
    if usernameLower ~= '' then redis.call('HSET', p .. 'usernames', usernameLower, userId) end
  end
  if countField ~= '' then
    set[#set + 1] = countField; set[#set + 1] = (tonumber(had[4]) or 0) + 1
  end
  redis.call('HSET', memberKey, unpack(set))
end
local nOnce = tonumber(ARGV[i]); i = i + 1
for _ = 1, nOnce do
  if redis.call('HSETNX', p .. ARGV[i], ARGV[i+1], ARGV[i+2]) == 1 then
    redis.call('HINCRBY', p .. ARGV[i+3], ARGV[i+4], 1)
  end
  i = i + 5
end
local nWrites = tonumber(ARGV[i]); i = i + 1
for _ = 1, nWrites do
  local argc = tonumber(ARGV[i]); i = i + 1
  local cmd = {}
  for a = 1, argc do cmd[a] = ARGV[i + a - 1] end
  cmd[2] = p .. cmd[2]
  redis.call(unpack(cmd))
  i = i + argc
end
return {1, frozen}
`;

const SCRIPT_NAME = "wardenPersistUpdate";

type WithPersist = Redis & {
  [SCRIPT_NAME](key: string, ...argv: (string | number)[]): Promise<[number, string?]>;
};

/**
 * The script registered on the connection, so ioredis sends EVALSHA (the
 * script's hash) rather than its text with every update.
 */
function scripted(redis: Redis): WithPersist {
  const r = redis as WithPersist;
  if (typeof r[SCRIPT_NAME] !== "function")
    redis.defineCommand(SCRIPT_NAME, { numberOfKeys: 1, lua: PERSIST_SCRIPT });
  return r;
}

/** The script's arguments for one update's facts. */
export function persistArgs(facts: UpdateFacts): (string | number)[] {
  const argv: (string | number)[] = [
    facts.prefix,
    facts.updateId,
    facts.receivedAt,
    facts.stateKey ?? "",
    facts.members.length,
  ];
  for (const m of facts.members) {
    argv.push(m.userId, m.profile, m.nameSignature, m.usernameLower, m.countField);
  }
  argv.push(facts.once.length);
  for (const o of facts.once) argv.push(o.key, o.field, o.value, o.counterKey, o.counterField);
  argv.push(facts.writes.length);
  for (const w of facts.writes) {
    argv.push(w.length);
    for (const a of w) argv.push(a);
  }
  return argv;
}

function seenKey(facts: UpdateFacts): string {
  return facts.prefix + collectParts.seenUpdates();
}

/** Persists the facts (once: a redelivered update changes nothing). */
export async function persistFacts(redis: Redis, facts: UpdateFacts): Promise<PersistResult> {
  const [applied, frozen] = await scripted(redis)[SCRIPT_NAME](
    seenKey(facts),
    ...persistArgs(facts),
  );
  return { applied: applied === 1, ...(frozen !== undefined ? { frozen } : {}) };
}

export interface Persister {
  persist(facts: UpdateFacts): Promise<PersistResult>;
}

interface Pending {
  facts: UpdateFacts;
  resolve(result: PersistResult): void;
  reject(err: unknown): void;
}

function resultOf(reply: unknown): PersistResult {
  const [applied, frozen] = reply as [number, string?];
  return { applied: applied === 1, ...(frozen !== undefined ? { frozen } : {}) };
}

/**
 * Persists updates handled at the same moment in one pipeline: many updates in
 * flight at once then cost Redis one network write instead of one each, which
 * is most of what a busy group costs. Each update is still its own atomic
 * step and its own result; a lone update goes out on the next turn of the
 * event loop.
 */
export function createPersister(redis: Redis, maxBatch = 128): Persister {
  let queue: Pending[] = [];
  let scheduled = false;

  function flush() {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const pipeline = scripted(redis).pipeline() as unknown as {
      exec(): Promise<[Error | null, unknown][] | null>;
    } & Record<string, (key: string, ...argv: (string | number)[]) => unknown>;
    for (const p of batch) pipeline[SCRIPT_NAME]?.(seenKey(p.facts), ...persistArgs(p.facts));
    pipeline.exec().then(
      (replies) => {
        batch.forEach((p, i) => {
          const [err, reply] = replies?.[i] ?? [new Error("no reply from Redis"), undefined];
          if (err) p.reject(err);
          else p.resolve(resultOf(reply));
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  return {
    persist(facts) {
      return new Promise<PersistResult>((resolve, reject) => {
        queue.push({ facts, resolve, reject });
        if (queue.length >= maxBatch) flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
