import type { RedisWrite } from "../store/cases.ts";
import { collectParts, storeParts } from "../store/keys.ts";
import { luaApplyWrites, pushWrites } from "../store/lua-writes.ts";
import type { Redis } from "../store/redis.ts";
import {
  type DeclaredKeys,
  declareKeys,
  isSlotMoving,
  keyIndex,
  luaScript,
  runScript,
} from "../store/script.ts";

/**
 * One update's facts, written in one atomic step that first checks the update
 * was not persisted before: a redelivered update changes nothing.
 *
 * Updates handled at the same moment go to Redis together, in one script call
 * per case: most of what a busy group costs is the per-call overhead (in
 * ioredis and in Redis), not the writes themselves. Each update keeps its own
 * check and its own result.
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
 * A message as evidence: the step stores it under its chat (first version in
 * the chat's message hash, every edit appended to the message's versions) and
 * indexes it by date and by sender. Its keys are built from the chat, message
 * and sender ids (`collectParts`) and declared to the step (src/store/script.ts).
 */
export interface MessageFact {
  chatId: number;
  messageId: number;
  /** Telegram's `date` (seconds), the score of both indexes. */
  date: number;
  /** The user or sender chat it is attributed to, if any. */
  senderId?: number;
  /** JSON of the message as stored, with its provenance. */
  stored: string;
  edited: boolean;
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
 * prefix (`collectParts`); the persister adds the prefix, so keys cannot
 * leave the case's hash slot. The update id is also queued for the case's
 * batched `collect` audit entry (`collect:pending`) in the same step.
 */
export interface UpdateFacts {
  /** `warden:{<case>}:` */
  prefix: string;
  updateId: number;
  receivedAt: number;
  members: MemberFact[];
  message?: MessageFact;
  once: OnceWrite[];
  /** Everything else (events, sender chats, files): commands whose second element is a key part. */
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

/**
 * How long an update id is remembered for de-duplication. Telegram keeps an
 * unconfirmed update for 24 hours and redelivers nothing older; a week leaves
 * room for a bot that was stopped and is replaying, and keeps the set from
 * growing without end in a case that runs for months.
 */
export const SEEN_UPDATES_MS = 7 * 24 * 3600 * 1000;

// KEYS: 1 the case record, 2 the seen set, 3 the collect queue, 4 the members index, then every
// other key the batch touches, each once (src/store/script.ts): a Redis Cluster moving the case's
// slot redirects the call by them, and only by them. The header and arguments name them by index.
// ARGV: oldest seen score to keep (or "" not to prune now), update count, the update ids
// (comma-separated), index of the usernames hash (or "" if no member of the batch has one), then
// per update a header of short comma-separated fields and the update's longer arguments. Few
// arguments matter: each costs ioredis and Redis more than its bytes do.
//   header: count of the update's arguments after the header (so a duplicate is skipped in one
//           step), update id, receive time, state key or "", member count, 5 fields per member
//           (id, lower-cased username, counter, member key, name history key), messages key or ""
//           (then message id, date, dates key, sender's index key or "", versions key or "" — set
//           when the message is an edit), once count
//   then: 2 per member (profile JSON, name signature), the message's stored JSON if any, 5 per
//         once (key, field, value, counter key, counter field), then the writes
//         (src/store/lua-writes.ts).
// Keys are indices in KEYS. Returns one string per update: "1" applied or "0" seen before, then
// ":<freeze mode>" if asked. A closed case keeps nothing new: every update counts as seen, checked
// in the same atomic step as the writes it would have made (the case record's `closed` field,
// src/store/cases.ts).
const PERSIST_SCRIPT = luaScript(`
if redis.call('HEXISTS', KEYS[1], 'closed') == 1 then
  local none = {}
  for u = 1, tonumber(ARGV[2]) do none[u] = '0' end
  return none
end
local seenKey, pendingKey, membersKey = KEYS[2], KEYS[3], KEYS[4]
local usernamesKey = KEYS[tonumber(ARGV[4])]
local n = tonumber(ARGV[2])
local out = {}
local i = 5
local function fields(s)
  local list, pos = {}, 1
  while true do
    local comma = string.find(s, ',', pos, true)
    if not comma then list[#list + 1] = string.sub(s, pos); return list end
    list[#list + 1] = string.sub(s, pos, comma - 1)
    pos = comma + 1
  end
end
-- A key named by its index in KEYS; '' names none.
local function key(index)
  if index == '' then return nil end
  return KEYS[tonumber(index)]
end
-- Which updates were persisted before: one read for the batch, one write for the new ones at the end.
local seenBefore = redis.call('ZMSCORE', seenKey, unpack(fields(ARGV[3])))
local seenNow, fresh, freshScored = {}, {}, {}
for u = 1, n do
  local h = fields(ARGV[i])
  local nextUpdate = i + 1 + tonumber(h[1])
  i = i + 1
  local updateId, now, state = h[2], h[3], key(h[4])
  local tail = ''
  if state then tail = ':' .. (redis.call('HGET', state, 'frozen') or '') end
  -- A missing score is false in Redis and null in the embedded Redis of rehearsals: test for a string.
  if type(seenBefore[u]) == 'string' or seenNow[updateId] then
    out[u] = '0' .. tail
    i = nextUpdate
  else
    out[u] = '1' .. tail
    seenNow[updateId] = true
    fresh[#fresh + 1] = updateId
    freshScored[#freshScored + 1] = now
    freshScored[#freshScored + 1] = updateId
    local nMembers = tonumber(h[5])
    local f = 6
    for _ = 1, nMembers do
      local userId, usernameLower, countField = h[f], h[f+1], h[f+2]
      local memberKey, namesKey = key(h[f+3]), key(h[f+4])
      local profile, sig = ARGV[i], ARGV[i+1]
      f = f + 5
      i = i + 2
      -- One read and one write per member: the script runs atomically, so read-then-write is safe.
      local field = countField ~= '' and countField or 'last_seen'
      local had = redis.call('HMGET', memberKey, 'first_seen', 'name_sig', 'profile', field)
      local set = {'last_seen', now}
      -- A missing field is false in Redis and null in the embedded Redis of rehearsals: test for a string.
      if type(had[1]) ~= 'string' then
        set[#set + 1] = 'first_seen'; set[#set + 1] = now
        redis.call('ZADD', membersKey, now, userId)
      end
      if had[3] ~= profile then set[#set + 1] = 'profile'; set[#set + 1] = profile end
      if had[2] ~= sig then
        set[#set + 1] = 'name_sig'; set[#set + 1] = sig
        redis.call('RPUSH', namesKey, '{"name":' .. sig .. ',"seen":' .. now .. '}')
        if usernameLower ~= '' then redis.call('HSET', usernamesKey, usernameLower, userId) end
      end
      if countField ~= '' then
        set[#set + 1] = countField; set[#set + 1] = (tonumber(had[4]) or 0) + 1
      end
      redis.call('HSET', memberKey, unpack(set))
    end
    local messagesKey = key(h[f]); f = f + 1
    if messagesKey then
      local messageId, date, datesKey, fromKey, versionsKey = h[f], h[f+1], key(h[f+2]), key(h[f+3]), key(h[f+4])
      f = f + 5
      local stored = ARGV[i]; i = i + 1
      -- The hash keeps the version first seen; every edit is appended, so no version is overwritten.
      if versionsKey then redis.call('RPUSH', versionsKey, stored) end
      redis.call('HSETNX', messagesKey, messageId, stored)
      redis.call('ZADD', datesKey, 'NX', date, messageId)
      if fromKey then redis.call('ZADD', fromKey, 'NX', date, messageId) end
    end
    local nOnce = tonumber(h[f])
    for _ = 1, nOnce do
      if redis.call('HSETNX', key(ARGV[i]), ARGV[i+1], ARGV[i+2]) == 1 then
        redis.call('HINCRBY', key(ARGV[i+3]), ARGV[i+4], 1)
      end
      i = i + 5
    end
    ${luaApplyWrites()}
  end
end
if #fresh > 0 then
  redis.call('ZADD', seenKey, unpack(freshScored))
  -- Queued for the case's batched collect audit entry, in the same step.
  redis.call('RPUSH', pendingKey, unpack(fresh))
end
-- Forget ids past the de-duplication window (asked for about once a minute per case).
if ARGV[1] ~= '' then redis.call('ZREMRANGEBYSCORE', seenKey, '-inf', '(' .. ARGV[1]) end
return out
`);

/** A header field: it must not hold the separator (usernames and Warden's own parts never do). */
function field(value: string): string {
  if (value.includes(",")) throw new Error(`"${value}" cannot be sent as a header field`);
  return value;
}

/**
 * Appends one update's header and arguments (see the script) to `argv`,
 * declaring its keys in `keys`.
 */
function pushUpdate(argv: (string | number)[], facts: UpdateFacts, keys: DeclaredKeys): void {
  const p = facts.prefix;
  const headerAt = argv.length;
  argv.push("");
  const state = facts.stateKey === undefined ? "" : keyIndex(keys, p + facts.stateKey);
  let header = `${facts.updateId},${facts.receivedAt},${state},${facts.members.length}`;
  for (const m of facts.members) {
    const member = keyIndex(keys, p + collectParts.member(m.userId));
    const names = keyIndex(keys, p + collectParts.memberNames(m.userId));
    header += `,${m.userId},${field(m.usernameLower)},${field(m.countField)},${member},${names}`;
    argv.push(m.profile, m.nameSignature);
  }
  const m = facts.message;
  if (m) {
    const messages = keyIndex(keys, p + collectParts.messages(m.chatId));
    const dates = keyIndex(keys, p + collectParts.messageDates(m.chatId));
    const from =
      m.senderId === undefined
        ? ""
        : keyIndex(keys, p + collectParts.messagesFrom(m.chatId, m.senderId));
    const versions = m.edited
      ? keyIndex(keys, p + collectParts.messageVersions(m.chatId, m.messageId))
      : "";
    header += `,${messages},${m.messageId},${m.date},${dates},${from},${versions}`;
    argv.push(m.stored);
  } else header += ",";
  header += `,${facts.once.length}`;
  for (const o of facts.once)
    argv.push(
      keyIndex(keys, p + o.key),
      o.field,
      o.value,
      keyIndex(keys, p + o.counterKey),
      o.counterField,
    );
  pushWrites(argv, facts.writes, keys, p);
  argv[headerAt] = `${argv.length - headerAt - 1},${header}`;
}

function resultOf(reply: string): PersistResult {
  const applied = reply.charCodeAt(0) === 49; // "1"
  return reply.length > 1 ? { applied, frozen: reply.slice(2) } : { applied };
}

/** How often a persister prunes a case's seen set: on every call it would cost for nothing. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Persists the facts of updates of one case (prefix) in one atomic step,
 * pruning the case's seen set too when `prune` is set.
 */
async function persistCase(
  redis: Redis,
  prefix: string,
  list: readonly UpdateFacts[],
  now: number,
  prune: boolean,
): Promise<PersistResult[]> {
  const keys = declareKeys([
    prefix + storeParts.caseMeta(),
    prefix + collectParts.seenUpdates(),
    prefix + collectParts.pendingCollect(),
    prefix + collectParts.members(),
  ]);
  const usernames = list.some((facts) => facts.members.some((m) => m.usernameLower !== ""))
    ? keyIndex(keys, prefix + collectParts.usernames())
    : "";
  const ids = list.map((facts) => facts.updateId).join(",");
  const argv: (string | number)[] = [
    prune ? now - SEEN_UPDATES_MS : "",
    list.length,
    ids,
    usernames,
  ];
  for (const facts of list) pushUpdate(argv, facts, keys);
  const replies = (await runScript(redis, PERSIST_SCRIPT, keys.list, argv)) as string[];
  return replies.map(resultOf);
}

export interface Persister {
  persist(facts: UpdateFacts): Promise<PersistResult>;
}

interface Pending {
  facts: UpdateFacts;
  resolve(result: PersistResult): void;
  reject(err: unknown): void;
}

/**
 * Redis answered, but refused the step (a script or type error), as opposed
 * to not answering or being busy: sending the same step again will not help.
 */
export function isRefusal(err: unknown): boolean {
  const text = (err as Error)?.message ?? "";
  if (/^(LOADING|BUSY|NOSCRIPT|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|OOM)/.test(text))
    return false;
  if (isSlotMoving(err)) return false;
  // ioredis-mock (rehearsals) reports script errors as plain errors naming the Lua VM.
  return (err as Error)?.name === "ReplyError" || /\blua\b/i.test(text);
}

/**
 * Collects the updates handled at the same moment and persists them together:
 * one script call per case on the next turn of the event loop, or as soon as
 * `maxBatch` are waiting. A batch the script refuses is sent again one update
 * at a time, so one odd update fails alone (updates of the batch that were
 * already written then report "seen before", which is true).
 */
export function createPersister(redis: Redis, maxBatch = 8): Persister {
  let queue: Pending[] = [];
  let scheduled = false;
  /** When each case's seen set was last pruned (ms), by prefix. */
  const lastPruned = new Map<string, number>();

  function settle(batch: Pending[], results: PersistResult[]) {
    batch.forEach((p, i) => {
      const result = results[i];
      if (result) p.resolve(result);
      else p.reject(new Error("Redis answered fewer results than updates sent"));
    });
  }

  function send(batch: Pending[]) {
    const first = batch[0] as Pending;
    const { prefix } = first.facts;
    const now = Date.now();
    const prune = now - (lastPruned.get(prefix) ?? 0) >= PRUNE_EVERY_MS;
    if (prune) lastPruned.set(prefix, now);
    persistCase(
      redis,
      prefix,
      batch.map((p) => p.facts),
      now,
      prune,
    ).then(
      (results) => settle(batch, results),
      (err: unknown) => {
        if (batch.length > 1 && isRefusal(err)) for (const p of batch) send([p]);
        else for (const p of batch) p.reject(err);
      },
    );
  }

  function flush() {
    scheduled = false;
    const batch = queue;
    queue = [];
    const byCase = new Map<string, Pending[]>();
    for (const p of batch) {
      const list = byCase.get(p.facts.prefix);
      if (list) list.push(p);
      else byCase.set(p.facts.prefix, [p]);
    }
    for (const list of byCase.values()) send(list);
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
