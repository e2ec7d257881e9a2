import type { Redis } from "ioredis";
import type { RedisWrite } from "../store/cases.ts";

/**
 * One update's facts, written in one atomic step that first checks the update
 * was not persisted before: a redelivered update changes nothing.
 */

export interface MemberFact {
  userId: number;
  memberKey: string;
  namesKey: string;
  membersKey: string;
  usernamesKey: string;
  /** JSON of the profile fields Telegram sent. */
  profile: string;
  /** Changes when the first name, last name or username changes. */
  nameSignature: string;
  /** JSON of the name record to append when the signature changed. */
  nameRecord: string;
  usernameLower: string;
  /** Counter to increment (e.g. `count:text`), or "" for none. */
  countField: string;
}

/**
 * A hash field set only if absent, and a counter bumped only when it was set:
 * how an offer is counted once per message however often it is edited.
 */
export interface OnceWrite {
  key: string;
  field: string;
  value: string;
  counterKey: string;
  counterField: string;
}

export interface UpdateFacts {
  seenKey: string;
  updateId: number;
  receivedAt: number;
  members: MemberFact[];
  once: OnceWrite[];
  writes: RedisWrite[];
  /** A chat-state hash whose `frozen` field the step should report (for the trade guard). */
  stateKey?: string;
}

export interface PersistResult {
  /** False when the update had been persisted before. */
  applied: boolean;
  /** The chat's freeze mode when `stateKey` was given ("" when not frozen). */
  frozen?: string;
}

// KEYS[1]: the case's set of persisted update ids.
// ARGV: update id, now, state key or "", member count, 10 fields per member, once count,
// 5 fields per once, write count, then (argc, argv…) per write. Positional arguments: no JSON
// to build in Node or to decode in Lua, and user text is never escaped twice.
const PERSIST_SCRIPT = `
local frozen = nil
if ARGV[3] ~= '' then frozen = redis.call('HGET', ARGV[3], 'frozen') or '' end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return {0, frozen} end
local now = ARGV[2]
local i = 4
local nMembers = tonumber(ARGV[i]); i = i + 1
for _ = 1, nMembers do
  local userId, memberKey, namesKey, membersKey, usernamesKey = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  local profile, sig, nameRecord, usernameLower, countField = ARGV[i+5], ARGV[i+6], ARGV[i+7], ARGV[i+8], ARGV[i+9]
  i = i + 10
  -- One read and one write per member: the script runs atomically, so read-then-write is safe.
  local field = countField ~= '' and countField or 'last_seen'
  local had = redis.call('HMGET', memberKey, 'first_seen', 'name_sig', 'profile', field)
  local set = {'last_seen', now}
  if not had[1] then
    set[#set + 1] = 'first_seen'; set[#set + 1] = now
    redis.call('ZADD', membersKey, now, userId)
  end
  if had[3] ~= profile then set[#set + 1] = 'profile'; set[#set + 1] = profile end
  if had[2] ~= sig then
    set[#set + 1] = 'name_sig'; set[#set + 1] = sig
    redis.call('RPUSH', namesKey, nameRecord)
    if usernameLower ~= '' then redis.call('HSET', usernamesKey, usernameLower, userId) end
  end
  if countField ~= '' then
    set[#set + 1] = countField; set[#set + 1] = (tonumber(had[4]) or 0) + 1
  end
  redis.call('HSET', memberKey, unpack(set))
end
local nOnce = tonumber(ARGV[i]); i = i + 1
for _ = 1, nOnce do
  if redis.call('HSETNX', ARGV[i], ARGV[i+1], ARGV[i+2]) == 1 then
    redis.call('HINCRBY', ARGV[i+3], ARGV[i+4], 1)
  end
  i = i + 5
end
local nWrites = tonumber(ARGV[i]); i = i + 1
for _ = 1, nWrites do
  local argc = tonumber(ARGV[i]); i = i + 1
  redis.call(unpack(ARGV, i, i + argc - 1))
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
    facts.updateId,
    facts.receivedAt,
    facts.stateKey ?? "",
    facts.members.length,
  ];
  for (const m of facts.members) {
    argv.push(
      m.userId,
      m.memberKey,
      m.namesKey,
      m.membersKey,
      m.usernamesKey,
      m.profile,
      m.nameSignature,
      m.nameRecord,
      m.usernameLower,
      m.countField,
    );
  }
  argv.push(facts.once.length);
  for (const o of facts.once) argv.push(o.key, o.field, o.value, o.counterKey, o.counterField);
  argv.push(facts.writes.length);
  for (const w of facts.writes) argv.push(w.length, ...w);
  return argv;
}

/** Persists the facts (once: a redelivered update changes nothing). */
export async function persistFacts(redis: Redis, facts: UpdateFacts): Promise<PersistResult> {
  const [applied, frozen] = await scripted(redis)[SCRIPT_NAME](
    facts.seenKey,
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
    for (const p of batch) pipeline[SCRIPT_NAME]?.(p.facts.seenKey, ...persistArgs(p.facts));
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
