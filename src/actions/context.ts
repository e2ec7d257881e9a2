import type { Api } from "grammy";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Actor, ScenarioRef } from "../audit/entry.ts";
import type { AuditLog } from "../audit/record.ts";
import type { CaseRecord, SeizedChat } from "../store/cases.ts";

/** What every action needs from its surroundings; built once by the caller (bot or scenario engine). */
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
