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

export interface UpdateFacts {
  seenKey: string;
  updateId: number;
  receivedAt: number;
  members: MemberFact[];
  writes: RedisWrite[];
}

// KEYS[1]: the case's set of persisted update ids.
// ARGV: update id, now, member count, 10 fields per member, write count, then (argc, argv…) per write.
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

/** Persists the facts; resolves to false when the update had been persisted before. */
export async function persistFacts(redis: Redis, facts: UpdateFacts): Promise<boolean> {
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
  argv.push(facts.writes.length);
  for (const w of facts.writes) argv.push(w.length, ...w);
  const applied = (await redis.eval(PERSIST_SCRIPT, 1, facts.seenKey, ...argv)) as number;
  return applied === 1;
}
