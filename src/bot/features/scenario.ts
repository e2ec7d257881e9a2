import {
  type ConversationData,
  type ConversationFlavor,
  type ConversationStorage,
  conversations,
  createConversation,
  type VersionedState,
} from "@grammyjs/conversations";
import { RedisAdapter } from "@grammyjs/storage-redis";
import { Composer, type Context, type Transformer } from "grammy";
import type { ChatMember, Update } from "grammy/types";
import type { Logger } from "pino";
import { actorOf, approverOf, recordRefusedAnswer } from "../../actions/approvals.ts";
import { actionEnv } from "../../actions/context.ts";
import { offerText } from "../../collect/offer-text.ts";
import { recordedOf } from "../../collect/recorder.ts";
import {
  CONVERSATION_ID,
  CONVERSATION_VERSION,
  conversationIndex,
  scenarioConversation,
} from "../../scenario/runtime/conversation.ts";
import type { ScenarioEngine } from "../../scenario/runtime/engine.ts";
import {
  type ConversationStart,
  type Member,
  type ScenarioEvent,
  syntheticOf,
} from "../../scenario/runtime/events.ts";
import { globalScenarioKeys, scenarioKeys } from "../../scenario/runtime/keys.ts";
import { botKeys } from "../../store/keys.ts";
import type { Redis } from "../../store/redis.ts";
import { trackedReads } from "../../store/tracked-reads.ts";
import { approvalButton, pressOf } from "../approval-button.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";

/**
 * Scenarios in the bot: what members do becomes events for the engine's
 * triggers, supervisors answer a scenario's approve steps here, and
 * conversations run on @grammyjs/conversations with their state in Redis,
 * one per chat and member, under the case's keys. Comes after commands and
 * approvals, so an operator's command is never mistaken for a member's
 * message, and after the recorder, so everything is persisted first.
 */

type ScenarioContext = ConversationFlavor<Context>;

/** The chat and member a conversation update belongs to (synthetic updates name theirs). */
function whereOf(ctx: Context): { chatId: number; userId: number } | undefined {
  const synthetic = syntheticOf(ctx.update);
  if (synthetic) return { chatId: synthetic.chat_id, userId: synthetic.user_id };
  const chatId = ctx.chatId;
  const userId = ctx.from?.id;
  return chatId !== undefined && userId !== undefined ? { chatId, userId } : undefined;
}

/**
 * The case of the conversation stored for an update's chat and member, if
 * any. Read for every update a member sends, and almost always empty: cached
 * until Redis says the index changed (src/store/tracked-reads.ts); while no
 * conversation was ever started, one answer serves every chat and member.
 */
function conversationCases(redis: Redis): {
  caseOf(ctx: Context): Promise<string | undefined>;
  /** True when memory already says there is none (no promise made); false when Redis must be asked. */
  knownNone(ctx: Context): boolean;
} {
  const tracked = trackedReads(redis);
  const index = conversationIndex.key();
  return {
    async caseOf(ctx) {
      const where = whereOf(ctx);
      if (!where) return undefined;
      if ((await tracked.get(index, "", (r) => r.exists(index))) === 0) return undefined;
      const field = conversationIndex.field(where.chatId, where.userId);
      return (await tracked.get(index, field, (r) => r.hget(index, field))) ?? undefined;
    },
    knownNone(ctx) {
      const where = whereOf(ctx);
      if (!where) return true;
      const any = tracked.peek(index, "");
      if (any === undefined) return false;
      if (any.value === 0) return true;
      return (
        tracked.peek(index, conversationIndex.field(where.chatId, where.userId))?.value === null
      );
    },
  };
}

/**
 * Conversation state lives under the case it belongs to; a global index maps
 * `<chat>:<member>` to that case, because a private chat belongs to no case.
 */
function conversationStorage(deps: FeatureDeps): ConversationStorage<Context, ConversationData> {
  // The adapter types its client as a single-server ioredis, but only uses GET, SET and DEL on one
  // key, which a cluster client routes the same way.
  const adapter = new RedisAdapter<VersionedState<ConversationData>>({
    instance: deps.redis as ConstructorParameters<typeof RedisAdapter>[0]["instance"],
  });
  const { caseOf } = conversationCases(deps.redis);
  async function keyOf(ctx: Context): Promise<string | undefined> {
    const caseId = await caseOf(ctx);
    const where = whereOf(ctx);
    return caseId && where
      ? scenarioKeys.conversation(caseId, where.chatId, where.userId)
      : undefined;
  }
  return {
    type: "context",
    version: CONVERSATION_VERSION,
    adapter: {
      read: async (ctx) => {
        const key = await keyOf(ctx);
        return key ? adapter.read(key) : undefined;
      },
      write: async (ctx, state) => {
        const key = await keyOf(ctx);
        if (key) await adapter.write(key, state);
        else deps.logger.error("a scenario conversation has no case to be stored under");
      },
      delete: async (ctx) => {
        const key = await keyOf(ctx);
        if (key) await adapter.delete(key);
      },
    },
  };
}

function memberOf(user: {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}): Member {
  return {
    id: user.id,
    firstName: user.first_name,
    ...(user.last_name ? { lastName: user.last_name } : {}),
    ...(user.username ? { username: user.username } : {}),
    ...(user.language_code ? { languageCode: user.language_code } : {}),
  };
}

const PRESENT = new Set(["member", "administrator", "creator"]);
function isPresent(m: ChatMember): boolean {
  return PRESENT.has(m.status) || (m.status === "restricted" && m.is_member);
}

/** The event an update is for the engine, if any. */
export function eventOf(ctx: Context): ScenarioEvent | undefined {
  const update = ctx.update;
  const seen = recordedOf(update);
  // An edit is an event only when it made the message an offer for the first time: answered
  // as a new offer would be, once, however often the message is edited afterwards.
  const editedIntoOffer = seen?.offer && seen.firstOffer ? update.edited_message : undefined;
  const message = update.message ?? editedIntoOffer;
  if (message?.from && !message.from.is_bot && !message.sender_chat) {
    const text = offerText(message) ?? "";
    const replied = message.reply_to_message;
    return {
      kind: message.chat.type === "private" ? "private_message" : "message",
      chatId: message.chat.id,
      ...(seen ? { caseId: seen.caseId } : {}),
      updateId: update.update_id,
      // An offer made by an edit was made when it was edited.
      at: (editedIntoOffer?.edit_date ?? message.date) * 1000,
      member: memberOf(message.from),
      message: {
        id: message.message_id,
        text,
        media: message.text === undefined,
        // The forum topic it was posted in: its thread id, or 1 (General); none outside forums.
        ...(message.chat.type === "supergroup" && message.chat.is_forum
          ? { topic: message.is_topic_message ? (message.message_thread_id ?? 1) : 1 }
          : {}),
        ...(editedIntoOffer ? { edited: true } : {}),
        command: message.entities?.[0]?.type === "bot_command" && message.entities[0].offset === 0,
        ...(replied
          ? {
              replyTo: {
                id: replied.message_id,
                ...(replied.from ? { fromId: replied.from.id } : {}),
              },
            }
          : {}),
        ...(seen?.offer ? { offer: { score: seen.offer.score, rules: seen.offer.rules } } : {}),
      },
    };
  }
  const change = update.chat_member;
  if (change && !change.new_chat_member.user.is_bot) {
    const was = isPresent(change.old_chat_member);
    const is = isPresent(change.new_chat_member);
    if (was === is) return undefined;
    return {
      kind: is ? "join" : "leave",
      chatId: change.chat.id,
      updateId: update.update_id,
      at: change.date * 1000,
      member: memberOf(change.new_chat_member.user),
    };
  }
  const request = update.chat_join_request;
  if (request)
    return {
      kind: "join_request",
      chatId: request.chat.id,
      updateId: update.update_id,
      at: request.date * 1000,
      member: memberOf(request.from),
    };
  return undefined;
}

/**
 * Updates a scenario may act on, kept in Redis from before the recorder sees
 * them until the bot has finished with them. The recorder confirms an update
 * to Telegram as soon as it is persisted, so an update whose handling was cut
 * short by a crash would never come back; the inbox hands such updates to the
 * bot again after a restart, and everything downstream (recorder, actions,
 * triggers, conversations) treats a redelivered update as a no-op where it
 * was already done.
 */
export interface ScenarioInbox {
  middleware: (ctx: Context, next: () => Promise<void>) => Promise<void>;
  /** Updates a previous process left unfinished; hands each to `handle` once, oldest first. */
  replay(handle: (update: Update) => Promise<void>): Promise<number>;
}

const INBOX_KEY = botKeys.scenarioInbox();

/**
 * With several processes on one Redis, each entry names the process handling
 * it, and only the entries of processes that are gone (`alive` says no) are
 * replayed — the others are a live replica's work in progress. Replaying is
 * then done again and again (the bot's ticker), since a replica may die at any
 * time; an entry is taken by removing it, so two processes never both replay it.
 */
export interface InboxReplicas {
  /** This process's id (src/store/process.ts). */
  id: string;
  alive(id: string): Promise<boolean>;
  /**
   * Polling: the lowest update id Telegram is sure to hand out again (the
   * confirmed offset the polling leader stored before sending it; Telegram
   * forgets nothing at or above it). A dead process's entries from there on
   * are left to that redelivery — replayed as well, they would be handled
   * twice — and the process that handles them again overwrites and removes
   * them.
   */
  redeliveredFrom?: () => Promise<number | undefined>;
}

export function scenarioInbox(
  redis: Redis,
  logger: Logger,
  replicas?: InboxReplicas,
): ScenarioInbox {
  // This process's entries are its own work in progress; only older (or dead) processes' are replayed.
  const owner = replicas?.id ?? `${process.pid}-${Date.now().toString(36)}`;
  // Asked for nearly every update: answered from memory until Redis says the set changed, so a run
  // just started (by any process) is covered at once (src/store/tracked-reads.ts).
  const tracked = trackedReads(redis);
  const cases = globalScenarioKeys.cases();
  async function scenariosActive(): Promise<boolean> {
    return (await tracked.get(cases, "", (r) => r.scard(cases))) > 0;
  }
  const relevant = (u: Update) =>
    u.update_id >= 0 &&
    (u.message !== undefined ||
      u.edited_message !== undefined ||
      u.callback_query !== undefined ||
      u.chat_member !== undefined ||
      u.chat_join_request !== undefined);
  async function keepWhileHandled(ctx: Context, next: () => Promise<void>): Promise<void> {
    const keep = await scenariosActive();
    const field = String(ctx.update.update_id);
    if (keep) await redis.hset(INBOX_KEY, field, JSON.stringify({ owner, update: ctx.update }));
    try {
      await next();
    } finally {
      if (keep) await redis.hdel(INBOX_KEY, field).catch(() => undefined);
    }
  }
  return {
    middleware(ctx, next) {
      if (!relevant(ctx.update)) return next();
      // While no scenario runs (known from memory), nothing is kept and no promise is made.
      if (tracked.peek(cases, "")?.value === 0) return next();
      return keepWhileHandled(ctx, next);
    },
    async replay(handle) {
      const left: Array<{ id: string; owner: string; update: Update }> = [];
      const verdicts = new Map<string, boolean>();
      const entries = Object.entries(await redis.hgetall(INBOX_KEY));
      const redelivered = entries.length > 0 ? await replicas?.redeliveredFrom?.() : undefined;
      for (const [id, raw] of entries) {
        const entry = { id, ...(JSON.parse(raw) as { owner: string; update: Update }) };
        if (entry.owner === owner) continue;
        if (redelivered !== undefined && entry.update.update_id >= redelivered) continue;
        if (replicas) {
          let alive = verdicts.get(entry.owner);
          if (alive === undefined) {
            alive = await replicas.alive(entry.owner);
            verdicts.set(entry.owner, alive);
          }
          if (alive) continue;
        }
        left.push(entry);
      }
      left.sort((a, b) => Number(a.id) - Number(b.id));
      let replayed = 0;
      for (const entry of left) {
        // Taken by removing it: of two processes replaying at once, one gets it.
        if ((await redis.hdel(INBOX_KEY, entry.id)) !== 1) continue;
        logger.warn(
          { update_id: entry.update.update_id, ...(replicas ? { process: entry.owner } : {}) },
          "handling an update again whose handling a restart interrupted",
        );
        replayed++;
        await handle(entry.update);
      }
      return replayed;
    },
  };
}

export interface ScenarioFeatureOptions {
  engine: ScenarioEngine;
  /** Installed on the API client inside conversations, which does not inherit `bot.api`'s transformers. */
  apiTransformers: Transformer[];
}

export function scenarioFeature(deps: FeatureDeps, opts: ScenarioFeatureOptions): Feature {
  const { engine } = opts;
  const composer = new Composer<ScenarioContext>();
  const tracked = trackedReads(deps.redis);
  const cases = globalScenarioKeys.cases();
  const storedConversations = conversationCases(deps.redis);
  /**
   * Whether anything below can act on an update. A member's update can only
   * matter to a run's triggers (and start a conversation) while some case has
   * an active run — the set the tick also visits — or to a conversation
   * already stored for its chat and member; buttons and synthetic updates
   * always go through. Both answers are tracked reads, exact up to one hop
   * from Redis, so the conversations plugin, the event and the engine are
   * skipped for the (many) updates of groups while no scenario runs.
   */
  async function mayAct(ctx: Context): Promise<boolean> {
    if (ctx.callbackQuery || syntheticOf(ctx.update)) return true;
    if ((await tracked.get(cases, "", (r) => r.scard(cases))) > 0) return true;
    return (await storedConversations.caseOf(ctx)) !== undefined;
  }
  /** `mayAct` answered from memory when it can: false without a promise for most updates. */
  function mayWant(ctx: Context): boolean {
    if (ctx.callbackQuery || syntheticOf(ctx.update)) return true;
    return tracked.peek(cases, "")?.value !== 0 || !storedConversations.knownNone(ctx);
  }

  composer.use(
    conversations<Context, Context>({
      storage: conversationStorage(deps),
      plugins: [
        async (ctx, next) => {
          ctx.api.config.use(...opts.apiTransformers);
          await next();
        },
      ],
    }),
  );
  composer.use(
    createConversation<Context, Context>(scenarioConversation(engine.deps), {
      id: CONVERSATION_ID,
      parallel: false,
    }),
  );

  async function enter(ctx: ScenarioContext, start: ConversationStart): Promise<void> {
    if (ctx.conversation.active(CONVERSATION_ID) > 0) return; // already talking with this member here
    await deps.redis.hset(
      conversationIndex.key(),
      conversationIndex.field(start.chatId, start.userId),
      start.caseId,
    );
    await ctx.conversation.enter(CONVERSATION_ID, start);
  }

  // A supervisor answers a scenario's approve step.
  composer.callbackQuery(approvalButton("sa"), async (ctx) => {
    const { caseId, id: approvalId, granted, presser } = pressOf(ctx);
    const env = actionEnv(deps);
    const gate = await approverOf(env, caseId, presser);
    if (!gate.ok) {
      if (gate.record)
        await recordRefusedAnswer(env, caseId, presser, gate.grant, approvalId, gate.reason);
      // Someone with no role in the case learns nothing, not even that the button means something.
      await ctx.answerCallbackQuery(gate.grant ? { text: gate.reason } : {});
      return;
    }
    const { grant } = gate;
    const result = await engine.answerApproval({
      caseId,
      approvalId,
      granted,
      approver: { userId: grant.userId, name: grant.name, actor: actorOf(grant) },
      updateId: ctx.update.update_id,
    });
    await ctx.answerCallbackQuery({ text: result.text, show_alert: !result.edit });
    if (result.edit) await ctx.editMessageText(result.edit).catch(() => undefined);
    if (result.runId) await engine.advance(caseId, result.runId);
  });

  composer.use(async (ctx, next) => {
    const synthetic = syntheticOf(ctx.update);
    if (synthetic) {
      if (synthetic.kind === "start") await enter(ctx, synthetic.start);
      return;
    }
    const event = eventOf(ctx);
    if (event) {
      const starts = await engine.handleEvent(event);
      for (const start of starts) {
        if (start.chatId === ctx.chat?.id && start.userId === ctx.from?.id) await enter(ctx, start);
        else
          await engine.deps.deliver?.({
            update_id: -1,
            warden_scenario: {
              kind: "start",
              chat_id: start.chatId,
              user_id: start.userId,
              start,
            },
          });
      }
    }
    await next();
  });
  const gate = new Composer<Context>();
  gate.lazy(async (ctx) => ((await mayAct(ctx)) ? (composer as unknown as Composer<Context>) : []));
  return { wants: mayWant, composer: gate };
}
