import { type CaseRecord, getCase, listCases, type SeizedChat } from "./cases.ts";
import { globalScenarioKeys, keys, scenarioKeys } from "./keys.ts";
import type { Redis } from "./redis.ts";
import { scanKeys } from "./scan.ts";

/**
 * The indexes that belong to no case — every case id, seized chat → case,
 * control room → case, cases with an active run — and how they follow the
 * cases' own records.
 *
 * On a Redis Cluster a case's keys live in its slot and these in others, so
 * no atomic step may write both (src/store/slots.ts). Each change that needs
 * both is two steps, ordered so that a crash between them leaves something
 * `repairGlobalIndexes` puts right at start, with the case's records as the
 * truth:
 *
 * - a chat or control room is *claimed* in its index first (so two cases can
 *   never both have it), then recorded in the case; a claim whose case never
 *   recorded it is released by the repair;
 * - a new case, a chat's move to its supergroup id, and a control room given
 *   up are recorded in the case first, then in the index; the repair adds (or
 *   removes) what the index missed;
 * - a case with a scenario run is indexed before the run starts, as an extra
 *   entry costs the tick one look and a missing one would stall the run.
 */

/** Removes `field` from a hash only while it still names `value`: one key, one slot. */
const RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

async function releaseField(redis: Redis, key: string, field: string, caseId: string) {
  await redis.eval(RELEASE_SCRIPT, 1, key, field, caseId);
}

/** Why a claim was refused: the chat already has a role (in this case, or any other). */
export type ClaimRefusal = "this-case" | "taken";

/**
 * Claims a chat for a case in the seized-chat index, before the case records
 * it: refused when the chat is seized (for this case or another) or is a
 * control room. The index and the control rooms are two keys (two slots), so
 * each claim writes its own index and then reads the other: of two claims of
 * one chat meeting, at least one sees the other and gives up, never both win.
 */
export async function claimChat(
  redis: Redis,
  caseId: string,
  chatId: number,
): Promise<ClaimRefusal | undefined> {
  const field = String(chatId);
  if ((await redis.hsetnx(keys.chatIndex(), field, caseId)) === 0) {
    const holder = await redis.hget(keys.chatIndex(), field);
    return holder === caseId ? "this-case" : "taken";
  }
  if ((await redis.hexists(keys.controlRoomIndex(), field)) === 1) {
    await releaseChat(redis, caseId, chatId);
    return "taken";
  }
  return undefined;
}

/**
 * Claims again, once the case recorded it, what `claimChat` or
 * `claimControlRoom` claimed: a repair at start running between the two steps
 * may have released the claim as one never recorded. Never takes it from
 * another case.
 */
export async function confirmClaim(
  redis: Redis,
  index: "chat" | "control-room",
  caseId: string,
  chatId: number,
): Promise<void> {
  const key = index === "chat" ? keys.chatIndex() : keys.controlRoomIndex();
  await redis.hsetnx(key, String(chatId), caseId);
}

/** Gives up a claim the case did not record (its step was refused). */
export async function releaseChat(redis: Redis, caseId: string, chatId: number): Promise<void> {
  await releaseField(redis, keys.chatIndex(), String(chatId), caseId);
}

/**
 * Claims a chat as a case's control room, before the case records it: refused
 * when it is seized or another case's control room (see `claimChat`).
 */
export async function claimControlRoom(
  redis: Redis,
  caseId: string,
  chatId: number,
): Promise<ClaimRefusal | undefined> {
  const field = String(chatId);
  if ((await redis.hsetnx(keys.controlRoomIndex(), field, caseId)) === 0) {
    const holder = await redis.hget(keys.controlRoomIndex(), field);
    if (holder !== caseId) return "taken";
  }
  if ((await redis.hexists(keys.chatIndex(), field)) === 1) {
    await releaseControlRoom(redis, caseId, chatId);
    return "taken";
  }
  return undefined;
}

/** Gives up a control room the case no longer has (replaced) or never recorded. */
export async function releaseControlRoom(
  redis: Redis,
  caseId: string,
  chatId: number,
): Promise<void> {
  await releaseField(redis, keys.controlRoomIndex(), String(chatId), caseId);
}

/** Lists a case recorded just now. */
export async function indexCase(redis: Redis, caseId: string): Promise<void> {
  await redis.sadd(keys.caseIndex(), caseId);
}

/** Lists a case about to start a scenario run, for the tick. */
export async function indexScenarioCase(redis: Redis, caseId: string): Promise<void> {
  await redis.sadd(globalScenarioKeys.cases(), caseId);
}

/**
 * Follows a seized chat to its supergroup id in the index, after the case
 * recorded the move; safe to run again (a redelivered service message does).
 */
export async function moveChatIndex(
  redis: Redis,
  caseId: string,
  oldId: number,
  newId: number,
): Promise<void> {
  await redis.hset(keys.chatIndex(), String(newId), caseId);
  await releaseChat(redis, caseId, oldId);
}

/** What `repairGlobalIndexes` put right, for the log. */
export interface IndexRepairs {
  casesListed: string[];
  chatsReleased: number[];
  chatsIndexed: number[];
  roomsReleased: number[];
  scenarioCasesListed: string[];
  /** A chat two cases record (written before claims existed): left as it is, for a person. */
  conflicts: string[];
}

/**
 * Makes the global indexes agree with the cases' records, after whatever a
 * crash cut between the two steps of a change. Run at start, before updates
 * are handled. Cases are found by their records on every master (a case whose
 * listing was cut is found so); claims without a record are released only
 * while they still name the case; a claim made meanwhile by a command that
 * then records it is claimed again by that command once recorded
 * (`confirmClaim`), so the repair cannot leave a recorded chat unindexed.
 */
export async function repairGlobalIndexes(redis: Redis): Promise<IndexRepairs> {
  const repairs: IndexRepairs = {
    casesListed: [],
    chatsReleased: [],
    chatsIndexed: [],
    roomsReleased: [],
    scenarioCasesListed: [],
    conflicts: [],
  };
  const listed = new Set(await redis.smembers(keys.caseIndex()));
  // Every case's record, whatever its id: the case prefix with a wildcard for the id.
  for (const key of await scanKeys(redis, keys.caseMeta("x").replace("{x}", "{*}"))) {
    const caseId = key.slice(key.indexOf("{") + 1, key.indexOf("}"));
    if (listed.has(caseId) || (await getCase(redis, caseId)) === undefined) continue;
    await indexCase(redis, caseId);
    repairs.casesListed.push(caseId);
  }
  const cases = new Map<string, CaseRecord>((await listCases(redis)).map((c) => [c.id, c]));

  // Claims the case never recorded, and index entries the case moved away from.
  for (const [field, caseId] of Object.entries(await redis.hgetall(keys.chatIndex()))) {
    const recorded =
      cases.has(caseId) && (await redis.hexists(keys.caseChats(caseId), field)) === 1;
    if (recorded) continue;
    await releaseChat(redis, caseId, Number(field));
    repairs.chatsReleased.push(Number(field));
  }
  for (const [field, caseId] of Object.entries(await redis.hgetall(keys.controlRoomIndex()))) {
    if (cases.get(caseId)?.controlRoom === Number(field)) continue;
    await releaseControlRoom(redis, caseId, Number(field));
    repairs.roomsReleased.push(Number(field));
  }
  // What the cases recorded first and the index missed: a chat's move to its supergroup id, and
  // runs. (Chats and control rooms are claimed before they are recorded, so a chat the index lacks
  // was let go on purpose, as a rehearsal does with its simulated chats.)
  for (const record of cases.values()) {
    for (const [field, raw] of Object.entries(await redis.hgetall(keys.caseChats(record.id)))) {
      if ((JSON.parse(raw) as SeizedChat).migratedFrom === undefined) continue;
      if ((await redis.hsetnx(keys.chatIndex(), field, record.id)) === 1)
        repairs.chatsIndexed.push(Number(field));
      else if ((await redis.hget(keys.chatIndex(), field)) !== record.id)
        repairs.conflicts.push(`chat ${field} is recorded by case ${record.id} and another`);
    }
    if (
      (await redis.hlen(scenarioKeys.active(record.id))) > 0 &&
      (await redis.sadd(globalScenarioKeys.cases(), record.id)) === 1
    )
      repairs.scenarioCasesListed.push(record.id);
  }
  return repairs;
}

/** Whether a repair changed anything. */
export function repairedAnything(r: IndexRepairs): boolean {
  return Object.values(r).some((list) => list.length > 0);
}
