import type { Precondition, RedisWrite } from "../store/cases.ts";
import { luaApplyWrites, pushWrites } from "../store/lua-writes.ts";
import type { Redis } from "../store/redis.ts";
import { declareKeys, keyIndex, luaScript, runScript } from "../store/script.ts";
import { assertOneSlot } from "../store/slots.ts";
import type { AuditEntry } from "./entry.ts";
import { encodeHexFrontier, type HexFrontier } from "./merkle.ts";
import { auditKeys } from "./storage.ts";

/**
 * The Lua script that appends one batch of entries to a case's log, and the
 * encoding of its arguments. In one atomic step it checks that the head is
 * still the one the batch chains from, that the stream ends where the head
 * says, that every outcome closes an intent still open, and the first entry's
 * preconditions; only then does it write: the stream entries and payloads, the
 * head and frontier, the open intents, and the caller's state changes. Redis
 * applies all of it or none.
 *
 * KEYS: 1 stream, 2 head, 3 payloads, 4 open intents (`auditKeys`), then every
 * key the preconditions and writes name, each once: a Redis Cluster moving the
 * case's slot redirects the call by its declared keys, and only by them
 * (src/store/script.ts). The arguments name these keys by their index.
 *
 * ARGV:
 * - 1, 2: seq and hash of the head the batch chains from;
 * - 3: n, the number of entries;
 * - 4, 5, 6: hash, ts and frontier (`encodeHexFrontier`) of the head the batch leaves;
 * - 7: the n leaf hashes, 64 hex digits each, as one string;
 * - 8: the n intent tags (`intentTag`) joined by ",";
 * - 9: the n entries' canonical bytes joined by "\n" (canonical JSON holds no raw line break);
 * - then the first entry's preconditions: their count, then key (its index), field ("" tests the key
 *   itself) and "1" (must exist), "0" (must not), "=<value>" (the string's or the hash
 *   field's value must be this) or "^<value>" (the list's first element must be this);
 * - then the writes of all n entries, as `pushWrites` encodes them.
 *
 * Leaves, tags and payloads each travel as one argument: per argument, the
 * client pays more than for its bytes.
 *
 * Reply: `[1, "ok"]`; or, with nothing written, `[0, "conflict"]` (the head
 * moved), `[0, "diverged", <seq the stream ends at>]`, `[0, "closed", <k>]` (the
 * k-th entry, 1-based, closes an intent that is not open) or
 * `[0, "precondition", <p>]` (the p-th precondition, 1-based, failed).
 */

export type ScriptReply = [number, string, number?];

/** One batch, as the script gets it. */
export interface AppendCall {
  /** The head the batch chains from. */
  from: { seq: number; hash: string };
  /** The head the batch leaves. */
  head: { hash: string; ts: string; frontier: HexFrontier };
  /** Per entry: its leaf hash (hex), intent tag and canonical bytes. */
  leaves: readonly string[];
  tags: readonly string[];
  payloads: readonly string[];
  /** The first entry's; those of later entries are never sent (see `takeBatch`). */
  preconditions: readonly Precondition[];
  writes: readonly RedisWrite[];
}

// Every check comes before the first write, so that a refused batch leaves nothing behind.
// The head is checked first, by seq and hash: a batch chained on a batch that was refused
// expects a head that never came about, even if another writer reached the same seq. Such a
// batch is built again from the real head, so nothing else about it is judged until then.
const APPEND_SCRIPT = luaScript(`
local head = redis.call('HMGET', KEYS[2], 'seq', 'hash')
local seq = tonumber(head[1]) or 0
if seq ~= tonumber(ARGV[1]) or (seq > 0 and head[2] ~= ARGV[2]) then return {0, 'conflict'} end
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local topSeq = 0
if top[1] then
  local id = top[1][1]
  -- ioredis-mock hands ids to Lua as host objects; it cannot diverge this way, so trust its head.
  if type(id) == 'string' then topSeq = tonumber(string.match(id, '^0%-(%d+)$')) or -1 else topSeq = seq end
end
if topSeq ~= seq then return {0, 'diverged', topSeq} end
local n = tonumber(ARGV[3])
local leaves = ARGV[7]
local tags = {}
for tag in string.gmatch(ARGV[8], '[^,]+') do tags[#tags + 1] = tag end
local closing = {}
for k = 1, n do
  local tag = tags[k]
  if string.byte(tag, 1) == 99 then
    local ref = string.sub(tag, 2)
    if closing[ref] or redis.call('HEXISTS', KEYS[4], ref) == 0 then return {0, 'closed', k} end
    closing[ref] = true
  end
end
local i = 10
local nPre = tonumber(ARGV[i]); i = i + 1
for p = 1, nPre do
  local key, field, want = KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local found
  local kind = string.sub(want, 1, 1)
  if kind == '=' or kind == '^' then
    local value
    if kind == '^' then value = redis.call('LINDEX', key, 0)
    elseif field == '' then value = redis.call('GET', key)
    else value = redis.call('HGET', key, field) end
    found = value == string.sub(want, 2)
    want = '1'
  elseif field == '' then found = redis.call('EXISTS', key) == 1
  else found = redis.call('HEXISTS', key, field) == 1 end
  if (want == '1') ~= found then return {0, 'precondition', p} end
end
local payload = {}
local bytes = ARGV[9]
local at = 1
for k = 1, n do
  local s = string.format('%d', seq + k)
  redis.call('XADD', KEYS[1], '0-' .. s, 'h', string.sub(leaves, k * 64 - 63, k * 64))
  payload[#payload + 1] = s
  local stop = string.find(bytes, '\\n', at, true) or (#bytes + 1)
  payload[#payload + 1] = string.sub(bytes, at, stop - 1)
  at = stop + 1
  local tag = tags[k]
  local t = string.byte(tag, 1)
  if t == 111 then redis.call('HSET', KEYS[4], s, string.sub(tag, 2))
  elseif t == 99 then redis.call('HDEL', KEYS[4], string.sub(tag, 2)) end
end
redis.call('HSET', KEYS[3], unpack(payload))
redis.call('HSET', KEYS[2], 'seq', string.format('%d', seq + n), 'hash', ARGV[4], 'ts', ARGV[5], 'frontier', ARGV[6])
${luaApplyWrites()}
return {1, 'ok'}
`);

function preconditionWant(c: Precondition): string {
  if (c.equals !== undefined && c.exists) return (c.listHead ? "^" : "=") + c.equals;
  return c.exists ? "1" : "0";
}

/**
 * "o" and the op opens an intent, "c" and the intent's seq closes one, "-" does neither. Ops hold
 * no comma. An intent's tag names, after a space, the process that logged it (`writer`, see
 * src/store/process.ts), which the open-intents hash keeps: a process starting beside it closes
 * only the intents of processes that are gone (`closeDanglingIntents`).
 */
export function intentTag(entry: AuditEntry, writer?: string): string {
  return entry.phase === "intent"
    ? writer
      ? `o${entry.op} ${writer}`
      : `o${entry.op}`
    : entry.phase === "outcome"
      ? `c${entry.intent_seq}`
      : "-";
}

/**
 * Sends one batch without waiting for Redis. Whatever goes wrong sending, even
 * synchronously, arrives as the batch's reply.
 */
export function evalAppend(redis: Redis, caseId: string, call: AppendCall): Promise<ScriptReply> {
  try {
    const keys = declareKeys([
      auditKeys.stream(caseId),
      auditKeys.head(caseId),
      auditKeys.payloads(caseId),
      auditKeys.openIntents(caseId),
    ]);
    const argv: (string | number)[] = [
      call.from.seq,
      call.from.hash,
      call.leaves.length,
      call.head.hash,
      call.head.ts,
      encodeHexFrontier(call.head.frontier),
      call.leaves.join(""),
      call.tags.join(","),
      call.payloads.join("\n"),
      call.preconditions.length,
    ];
    for (const c of call.preconditions)
      argv.push(keyIndex(keys, c.key), c.field ?? "", preconditionWant(c));
    pushWrites(argv, call.writes, keys);
    assertOneSlot(`the audit entry of case ${caseId}`, keys.list);
    return runScript(redis, APPEND_SCRIPT, keys.list, argv) as Promise<ScriptReply>;
  } catch (err) {
    return Promise.reject(err);
  }
}
