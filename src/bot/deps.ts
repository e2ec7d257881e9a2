import type { Api } from "grammy";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/record.ts";
import type { ScenarioEngine } from "../scenario/runtime/engine.ts";
import type { Redis } from "../store/redis.ts";

/** What the bot's features are built from; passed in, never imported as globals. */
export interface BotDeps {
  redis: Redis;
  audit: AuditLog;
  logger: Logger;
  /** Milliseconds since the epoch; injectable so approvals can expire in tests and rehearsals. */
  now?: () => number;
  /** Banning or purging more than this many needs a supervisor's approval. */
  approvalThreshold?: number;
  /** How long an approval request stays valid. */
  approvalTtlSeconds?: number;
}

export interface FeatureDeps extends BotDeps {
  /** The bot's API client, with retry and throttling installed. */
  api: Api;
  now: () => number;
  /** Known once the bot is initialised; read lazily because features are built before `bot.init()`. */
  readonly botId: number | undefined;
  approvalThreshold: number;
  approvalTtlSeconds: number;
  /** Called when /seize binds a chat, so its operators see the commands there. */
  onChatSeized?: (caseId: string, chatId: number) => Promise<void>;
  /** Runs scenarios (src/scenario); absent in bots built without them. */
  scenarios?: ScenarioEngine;
  /** Waits for replicas to hold what was written (src/actions/context.ts, `replicated`). */
  replicated?: () => Promise<void>;
}
