import type { CommandGroup } from "@grammyjs/commands";
import { type RunnerHandle, run, sequentialize } from "@grammyjs/runner";
import type { Bot, Context } from "grammy";
import type { BotCommandScope } from "grammy/types";
import type { Logger } from "pino";
import { createRecorder, type Recorder } from "../collect/recorder.ts";
import { getCase, listCases, listChats, listRoles } from "../store/cases.ts";
import { type CreateBotOptions, createBot } from "./bot.ts";
import type { BotDeps, FeatureDeps } from "./deps.ts";
import { approvalsFeature } from "./features/approvals.ts";
import { commandsFeature, executeApproved } from "./features/commands.ts";
import { lifecycleFeature } from "./features/lifecycle.ts";

/**
 * Warden's bot, whole. Every update passes, in this order:
 *   1. sequentialize: one update at a time per chat, so commands and the
 *      updates they act on are seen in order;
 *   2. the recorder (src/collect): persisted before anything else looks at it;
 *   3. lifecycle: the bot's own status, join requests, supergroup migration;
 *   4. commands: access control, then the takeover actions (src/actions);
 *   5. approvals: supervisors answering destructive requests.
 */

/** The updates Warden needs; chat_member and message_reaction are only sent when asked for. */
export const ALLOWED_UPDATES = [
  "message",
  "edited_message",
  "callback_query",
  "my_chat_member",
  "chat_member",
  "chat_join_request",
  "message_reaction",
] as const;

export interface WardenBot {
  bot: Bot;
  recorder: Recorder;
  commands: CommandGroup<Context>;
  /** Lists the commands to each operator in their case's chats, and to nobody else. */
  publishCommands(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateWardenBotOptions extends BotDeps {
  token: string;
  apiRoot: string;
  logger: Logger;
  throttle?: CreateBotOptions["throttle"];
}

export function createWardenBot(opts: CreateWardenBotOptions): WardenBot {
  const bot = createBot({
    token: opts.token,
    apiRoot: opts.apiRoot,
    logger: opts.logger,
    ...(opts.throttle !== undefined ? { throttle: opts.throttle } : {}),
  });
  const deps: FeatureDeps = {
    ...opts,
    api: bot.api,
    now: opts.now ?? Date.now,
    get botId() {
      return bot.isInited() ? bot.botInfo.id : undefined;
    },
    approvalThreshold: opts.approvalThreshold ?? 20,
    approvalTtlSeconds: opts.approvalTtlSeconds ?? 15 * 60,
  };
  const recorder = createRecorder({ redis: opts.redis, audit: opts.audit, logger: opts.logger });
  const { composer: commands, group } = commandsFeature(deps);

  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString() ?? ctx.from?.id.toString()));
  bot.use(recorder.middleware);
  bot.use(lifecycleFeature(deps));
  bot.use(commands);
  bot.use(approvalsFeature(deps, executeApproved(deps)));

  return {
    bot,
    recorder,
    commands: group,
    async publishCommands() {
      // Nobody sees the commands by default: a member who types "/" learns nothing.
      await bot.api.deleteMyCommands();
      const list = group.commands.map((c) => ({
        command: String(c.name),
        description: c.description,
      }));
      for (const record of await listCases(opts.redis)) {
        if (record.status !== "open") continue;
        const fresh = await getCase(opts.redis, record.id);
        const chats = [
          ...(fresh?.controlRoom !== undefined ? [fresh.controlRoom] : []),
          ...(await listChats(opts.redis, record.id)).map((c) => c.chatId),
        ];
        for (const grant of await listRoles(opts.redis, record.id)) {
          for (const chatId of chats) {
            const scope: BotCommandScope = {
              type: "chat_member",
              chat_id: chatId,
              user_id: grant.userId,
            };
            await bot.api.setMyCommands(list, { scope }).catch((err: Error) => {
              opts.logger.warn(
                { case: record.id, chat: chatId, err: err.message },
                "could not list commands for an operator",
              );
            });
          }
        }
      }
    },
    async close() {
      await recorder.close();
    },
  };
}

/**
 * Long polling with @grammyjs/runner: one update at a time per chat (see
 * `sequentialize` above), many chats at once. The runner's own console output
 * is silenced because it prints the request URL, which holds the bot token;
 * failed polls are logged through the scrubbing logger instead.
 */
export function startPolling(
  warden: WardenBot,
  logger: Logger,
  opts: { timeoutSeconds?: number } = {},
): RunnerHandle {
  let failures = 0;
  warden.bot.api.config.use(async (prev, method, payload, signal) => {
    if (method !== "getUpdates") return prev(method, payload, signal);
    try {
      const result = await prev(method, payload, signal);
      if (failures > 0) logger.info({ after: failures }, "polling Telegram again");
      failures = 0;
      return result;
    } catch (err) {
      if (!signal?.aborted && failures++ % 10 === 0) {
        logger.warn(
          { err: (err as Error).message, failures },
          "could not poll Telegram for updates; retrying",
        );
      }
      throw err;
    }
  });
  return run(warden.bot, {
    runner: {
      silent: true,
      fetch: { allowed_updates: [...ALLOWED_UPDATES], timeout: opts.timeoutSeconds ?? 30 },
    },
  });
}
