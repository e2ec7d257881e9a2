import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { addChat, addRole, createCase, setControlRoom } from "../../actions/case-changes.ts";
import { type Signer, signerForRun } from "../../audit/checkpoint.ts";
import { type AuditLog, createAuditLog } from "../../audit/record.ts";
import { globalScenarioKeys } from "../../scenario/runtime/keys.ts";
import { keys } from "../../store/keys.ts";
import { connectRedis, type RedisConnection } from "../../store/redis.ts";
import type { RehearsalSection } from "../rehearsal-world.ts";
import { type Cast, idOf } from "./cast.ts";

/**
 * The rehearsal's case, set up as `warden case create`, `operator add`,
 * `chat add` and `control-room set` would, so the bot meets the same records
 * as in a real takeover; and, at the end, the simulated chats let go again.
 */

/** Where the rehearsal is recorded: Redis, and the audit log with its signing key. */
export interface CaseRecords {
  connection: RedisConnection;
  redis: Redis;
  audit: AuditLog;
  signer: Signer;
  /** Said once to the person rehearsing, e.g. that the signing key is ephemeral. */
  notice?: string;
}

export async function openRecords(opts: {
  redisUrl?: string;
  redisConnectTimeoutMs?: number;
  auditKeyPath?: string;
  logger: Logger;
  /** The simulated clock: the log's times are the rehearsal's, so its report reads as the rehearsal played. */
  nowMs?: () => number;
}): Promise<CaseRecords> {
  const connection = await connectRedis({
    ...(opts.redisUrl ? { url: opts.redisUrl } : {}),
    ...(opts.redisConnectTimeoutMs ? { connectTimeoutMs: opts.redisConnectTimeoutMs } : {}),
    logger: opts.logger,
    embeddedName: `rehearsal-${Date.now().toString(36)}`,
  });
  try {
    const { signer, notice } = signerForRun({
      ...(opts.auditKeyPath ? { keyPath: opts.auditKeyPath } : {}),
      live: false,
    });
    const audit = createAuditLog({
      redis: connection.redis,
      signer,
      ...(opts.nowMs ? { now: opts.nowMs } : {}),
    });
    return { connection, redis: connection.redis, audit, signer, ...(notice ? { notice } : {}) };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** The names the officers' roles carry; Warden's messages, and so the transcript, call them so. */
export const OFFICER_NAMES = { operator: "Duty officer", supervisor: "Team lead" } as const;

/**
 * A new case id for each rehearsal: the world's case id, the simulated day
 * and the real time, so rehearsals on one Redis never meet. Chosen before
 * anything is recorded, so the rehearsal's log file can carry it.
 */
export function rehearsalCaseId(section: RehearsalSection, nowMs: number): string {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  return `${section.case?.id ?? "rehearsal"}-${day}-${Date.now().toString(36)}`;
}

/**
 * Creates the case, gives the cast their roles, seizes the chats under their
 * aliases and sets the control room. Returns alias → chat id.
 */
export async function openCase(
  records: { redis: Redis; audit: AuditLog },
  cast: Cast,
  what: {
    caseId: string;
    section: RehearsalSection;
    scenarioId: string;
  },
): Promise<Record<string, number>> {
  const { section, caseId } = what;
  const registry = {
    redis: records.redis,
    audit: records.audit,
    actor: { kind: "cli" as const, name: "rehearsal" },
  };
  await createCase(registry, {
    id: caseId,
    title: section.case?.title ?? `Rehearsal of ${what.scenarioId}`,
    authority: section.case?.authority ?? "REHEARSAL",
    purpose: section.case?.purpose ?? "rehearse a scenario",
    retentionDays: 1,
  });
  await addRole(registry, caseId, {
    userId: cast.operator,
    role: "operator",
    name: OFFICER_NAMES.operator,
  });
  await addRole(registry, caseId, {
    userId: cast.supervisor,
    role: "supervisor",
    name: OFFICER_NAMES.supervisor,
  });
  const aliases: Record<string, number> = {};
  for (const [key, alias] of Object.entries(cast.seize)) {
    const chatId = idOf(cast, "chat", key);
    aliases[alias] = chatId;
    await addChat(registry, caseId, { chatId, alias });
  }
  await setControlRoom(registry, caseId, cast.room);
  return aliases;
}

/**
 * The simulator hands out the same chat ids every run, so a rehearsal's chats
 * are unbound from the global indexes when it ends; otherwise the next
 * rehearsal on the same Redis would find them seized. The case, its log and
 * its export stay.
 */
export async function releaseSimulatedChats(
  redis: Redis,
  caseId: string,
  chatIds: number[],
): Promise<void> {
  for (const index of [keys.chatIndex(), keys.controlRoomIndex()]) {
    for (const chatId of chatIds) {
      if ((await redis.hget(index, String(chatId))) === caseId)
        await redis.hdel(index, String(chatId));
    }
  }
  await redis.srem(globalScenarioKeys.cases(), caseId);
}
