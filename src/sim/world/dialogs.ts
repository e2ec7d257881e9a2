/**
 * A person's one-to-one dialog with a bot: writing to it (which, like
 * pressing "Restart", lifts a block) and stopping it. Telegram lets a bot
 * write first only to people who wrote to it, so writing is also what opens
 * the dialog for the bot.
 */
import { controlForbidden, controlInvalid } from "../errors.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import type { BotState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { requireBot, requireUser } from "./accounts.ts";
import { chatObject, privateChat } from "./chats.ts";
import { deliver } from "./delivery.ts";
import { memberContent } from "./member-content.ts";
import { liveMessage, postMessage } from "./messages.ts";

/** A user writes to a bot in private; this also lifts a block, as pressing "Restart" does. */
export function postPrivateMessage(
  sim: Simulator,
  userId: number,
  input: MemberMessageInput,
): StoredMessage {
  const user = requireUser(sim, userId);
  if (user.user.is_bot) throw controlInvalid("bots can't write to bots");
  if (input.from_id !== userId) throw controlInvalid("in a private chat only the user can write");
  const bot = requireBot(sim, input.bot);
  const chat = privateChat(bot, userId);
  if (bot.blockedBy.has(userId)) setBlocked(sim, bot, userId, false);
  bot.talkedTo.add(userId);
  let replyTo: StoredMessage | undefined;
  if (input.reply_to_message_id !== undefined) {
    replyTo = liveMessage(chat, input.reply_to_message_id);
    if (!replyTo) throw controlForbidden("message to be replied not found");
  }
  return postMessage(sim, chat, memberContent(sim, input), {
    fromId: userId,
    ...(replyTo ? { replyTo } : {}),
    ...(input.date !== undefined ? { date: input.date } : {}),
  });
}

/** A user stops (blocks) or restarts a bot; the bot hears of it through my_chat_member. */
export function setBlocked(sim: Simulator, bot: BotState, userId: number, blocked: boolean) {
  const user = requireUser(sim, userId);
  if (bot.blockedBy.has(userId) === blocked) return;
  if (blocked) bot.blockedBy.add(userId);
  else bot.blockedBy.delete(userId);
  const member = { status: "member", user: bot.user };
  const kicked = { status: "kicked", user: bot.user, until_date: 0 };
  deliver(sim, bot, "my_chat_member", {
    chat: chatObject(sim, privateChat(bot, userId)),
    from: user.user,
    date: sim.clock.now(),
    old_chat_member: blocked ? member : kicked,
    new_chat_member: blocked ? kicked : member,
  });
}
