import type { Api } from "grammy";
import type { Logger } from "pino";
import type { Actor, ScenarioRef } from "../audit/entry.ts";
import type { AuditLog } from "../audit/record.ts";
import type { CaseRecord, SeizedChat } from "../store/cases.ts";
import type { Redis } from "../store/redis.ts";

/** What every action needs from its surroundings; built by `actionEnv` from the bot's or the engine's dependencies. */
export interface ActionEnv {
  /** grammY's API client for the bot, with retry and throttling installed. */
  api: Api;
  redis: Redis;
  audit: AuditLog;
  logger: Logger;
  /** The bot's own user id, when known (grammY's `bot.botInfo`), saving a getMe per check. */
  botId?: number;
  /** Unix seconds, from the same clock Telegram dates use; injectable for rehearsals. */
  now?: () => number;
  /** Acting on more targets than this needs a supervisor, unless the case sets its own threshold. */
  approvalThreshold: number;
  /** How long an approval request stays open. */
  approvalTtlSeconds: number;
  /**
   * Resolves once the intent just recorded is held by Redis replicas
   * (REDIS_WAIT_REPLICAS on a cluster); rejects if they did not take it in
   * time. Absent: no waiting (a single server). An intent a failover lost
   * would let a redelivered update act a second time, so the Telegram call
   * waits for it.
   */
  replicated?: () => Promise<void>;
}

/** Banning, restricting, removing or purging more than this many needs a supervisor's approval. */
export const DEFAULT_APPROVAL_THRESHOLD = 20;
/** An approval request expires after this long. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 15 * 60;

/** What the bot's features and the scenario engine both have, from which their actions' surroundings are built. */
export interface ActionEnvSource {
  api: Api;
  redis: Redis;
  audit: AuditLog;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Known once the bot is initialised, so it may be read lazily. */
  botId?: number | (() => number | undefined);
  approvalThreshold?: number;
  approvalTtlSeconds?: number;
  /** See `ActionEnv.replicated`. */
  replicated?: () => Promise<void>;
}

/** The one way to build an `ActionEnv`: commands, scenarios and the trade guard act with the same surroundings. */
export function actionEnv(source: ActionEnvSource): ActionEnv {
  return {
    api: source.api,
    redis: source.redis,
    audit: source.audit,
    logger: source.logger,
    now: () => Math.floor(source.now() / 1000),
    get botId() {
      return typeof source.botId === "function" ? source.botId() : source.botId;
    },
    approvalThreshold: source.approvalThreshold ?? DEFAULT_APPROVAL_THRESHOLD,
    approvalTtlSeconds: source.approvalTtlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS,
    ...(source.replicated ? { replicated: source.replicated } : {}),
  };
}

/** Who asks for an action, on which chat, and why: carried into every audit entry it causes. */
export interface ActionScope {
  case: CaseRecord;
  chat: SeizedChat;
  actor: Actor;
  /**
   * Identifies this request. A request with a key already used is not performed
   * again: a redelivered update or a resumed scenario gets the earlier result.
   */
  idempotencyKey: string;
  /** The Telegram updates that caused it. */
  updateIds?: number[];
  scenario?: ScenarioRef;
}
