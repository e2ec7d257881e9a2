/**
 * Inline buttons: a person presses one under a bot's message and the bot
 * gets a callback_query, which it answers with answerCallbackQuery. Telegram
 * shows a message older than 48 hours (or deleted) only as inaccessible.
 */
import { createHash } from "node:crypto";
import { controlInvalid, controlNotFound } from "../errors.ts";
import { randomString } from "../ids.ts";
import type { Simulator } from "../simulator.ts";
import { requireUser } from "./accounts.ts";
import { requireChatOrDialog } from "./chats.ts";
import { deliver } from "./delivery.ts";
import { nestedCopy } from "./messages.ts";

export interface CallbackInput {
  from_id: number;
  chat_id: number;
  message_id: number;
  data?: string;
  bot?: string;
}

/** A user presses an inline button under a bot's message. */
export function pressButton(sim: Simulator, input: CallbackInput): { callback_query_id: string } {
  const user = requireUser(sim, input.from_id);
  const chat = requireChatOrDialog(sim, input.chat_id, input.bot);
  const stored = chat.messages.get(input.message_id);
  if (!stored) throw controlNotFound(`message ${input.message_id}`);
  const bot = sim.world.bots.get(stored.senderId);
  if (!bot) throw controlInvalid("only a bot's messages carry inline buttons");
  const id = `${BigInt(input.from_id) * 4096n + BigInt(Math.floor(Math.random() * 4096))}${randomString(4, "0123456789")}`;
  const message =
    stored.deleted || sim.clock.now() - stored.message.date >= 48 * 3600
      ? { chat: stored.message.chat, message_id: stored.message.message_id, date: 0 }
      : nestedCopy(stored.message);
  sim.world.callbacks.set(id, {
    id,
    botId: bot.user.id,
    fromId: input.from_id,
    chatId: chat.id,
    messageId: input.message_id,
    ...(input.data !== undefined ? { data: input.data } : {}),
    createdAtMs: Date.now(),
  });
  deliver(sim, bot, "callback_query", {
    id,
    from: user.user,
    message,
    chat_instance: createHash("sha256")
      .update(`${bot.user.id}:${chat.id}`)
      .digest()
      .readBigInt64BE()
      .toString(),
    ...(input.data !== undefined ? { data: input.data } : {}),
  });
  return { callback_query_id: id };
}
