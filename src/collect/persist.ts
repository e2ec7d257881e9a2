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
}

// KEYS[1]: the case's set of persisted update ids.
// ARGV: update id, now, member count, 10 fields per member, once count, 5 fields per once,
// write count, then (argc, argv…) per write.
const PERSIST_SCRIPT = `
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
local now = ARGV[2]
local i = 3
local nMembers = tonumber(ARGV[i]); i = i + 1
for m = 1, nMembers do
  local userId, memberKey, namesKey, membersKey, usernamesKey = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  local profile, sig, nameRecord, usernameLower, countField = ARGV[i+5], ARGV[i+6], ARGV[i+7], ARGV[i+8], ARGV[i+9]
  i = i + 10
  if redis.call('HSETNX', memberKey, 'first_seen', now) == 1 then
    redis.call('ZADD', membersKey, now, userId)
  end
  redis.call('HSET', memberKey, 'profile', profile, 'last_seen', now)
  if redis.call('HGET', memberKey, 'name_sig') ~= sig then
    redis.call('HSET', memberKey, 'name_sig', sig)
    redis.call('RPUSH', namesKey, nameRecord)
  end
  if usernameLower ~= '' then redis.call('HSET', usernamesKey, usernameLower, userId) end
  if countField ~= '' then redis.call('HINCRBY', memberKey, countField, 1) end
end
local nOnce = tonumber(ARGV[i]); i = i + 1
for o = 1, nOnce do
  if redis.call('HSETNX', ARGV[i], ARGV[i+1], ARGV[i+2]) == 1 then
    redis.call('HINCRBY', ARGV[i+3], ARGV[i+4], 1)
  end
  i = i + 5
end
local nWrites = tonumber(ARGV[i]); i = i + 1
for w = 1, nWrites do
  local argc = tonumber(ARGV[i]); i = i + 1
  local cmd = {}
  for a = 1, argc do cmd[a] = ARGV[i + a - 1] end
  i = i + argc
  redis.call(unpack(cmd))
end
return 1
`;

const SCRIPT_NAME = "wardenPersistUpdate";

type WithPersist = Redis & {
  [SCRIPT_NAME](key: string, ...argv: (string | number)[]): Promise<number>;
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
  const argv: (string | number)[] = [facts.updateId, facts.receivedAt, facts.members.length];
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

/** Persists the facts; resolves to false when the update had been persisted before. */
export async function persistFacts(redis: Redis, facts: UpdateFacts): Promise<boolean> {
  const applied = await scripted(redis)[SCRIPT_NAME](facts.seenKey, ...persistArgs(facts));
  return applied === 1;
}
