/**
 * Who receives what. Updates go to bots under test only; a group message
 * reaches a bot that is in the chat unless privacy mode hides it, and bots
 * never see ordinary messages from other bots (Telegram's guard against bot
 * loops).
 */
import { CHANNEL_BOT, GROUP_ANONYMOUS_BOT } from "../ids.ts";
import type { BotState, ChatState, Membership, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { enqueueUpdate } from "../updates/queue.ts";

export function deliver(sim: Simulator, bot: BotState, type: string, payload: unknown) {
  const update = enqueueUpdate(bot.updates, type, payload);
  if (update) sim.events.emit("update", bot.user.id, update);
}

export function isPresent(m: Membership | undefined): boolean {
  if (!m) return false;
  return (
    m.status === "creator" ||
    m.status === "administrator" ||
    m.status === "member" ||
    (m.status === "restricted" && m.isMember)
  );
}

export function isAdmin(m: Membership | undefined): boolean {
  return m?.status === "creator" || m?.status === "administrator";
}

/** Bots under test currently in `chat`. */
export function botsInChat(sim: Simulator, chat: ChatState): BotState[] {
  if (chat.peer) {
    const bot = sim.world.bots.get(chat.peer.botId);
    return bot ? [bot] : [];
  }
  const bots: BotState[] = [];
  for (const bot of sim.world.bots.values()) {
    if (isPresent(chat.members.get(bot.user.id))) bots.push(bot);
  }
  return bots;
}

function isCommandFor(text: string, bot: BotState): boolean {
  const match = /^\/[A-Za-z0-9_]{1,32}(?:@([A-Za-z0-9_]+))?(?:\s|$)/.exec(text);
  if (!match) return false;
  const addressee = match[1];
  return addressee === undefined || addressee.toLowerCase() === bot.user.username?.toLowerCase();
}

/** Privacy mode: an admin bot or one with privacy off sees everything; others only what is meant for them. */
function passesPrivacy(bot: BotState, chat: ChatState, stored: StoredMessage) {
  if (!bot.privacy || isAdmin(chat.members.get(bot.user.id))) return true;
  if (stored.isService) return true;
  const text = stored.message.text ?? stored.message.caption ?? "";
  if (isCommandFor(text, bot)) return true;
  // Only an explicit reply counts: a forum topic's messages all show the topic's first message
  // as reply_to_message, but they do not answer whoever opened the topic.
  const replied = stored.replyToId === undefined ? undefined : stored.message.reply_to_message;
  return replied !== undefined && replied.from?.id === bot.user.id && !replied.sender_chat;
}

function sentByAnotherBot(stored: StoredMessage, bot: BotState) {
  const from = stored.message.from;
  if (!from?.is_bot || stored.isService) return false;
  if (from.id === GROUP_ANONYMOUS_BOT.id || from.id === CHANNEL_BOT.id) return false;
  return from.id !== bot.user.id;
}

/** Sends a new or edited message to every bot that Telegram would show it to. */
export function deliverMessage(
  sim: Simulator,
  chat: ChatState,
  stored: StoredMessage,
  edited: boolean,
) {
  const channel = chat.type === "channel";
  const type = channel
    ? edited
      ? "edited_channel_post"
      : "channel_post"
    : edited
      ? "edited_message"
      : "message";
  for (const bot of botsInChat(sim, chat)) {
    if (stored.senderId === bot.user.id) continue;
    if (chat.peer) {
      if (stored.senderId === chat.peer.userId) deliver(sim, bot, type, stored.message);
      continue;
    }
    if (channel) {
      if (isAdmin(chat.members.get(bot.user.id))) deliver(sim, bot, type, stored.message);
      continue;
    }
    if (sentByAnotherBot(stored, bot)) continue;
    if (passesPrivacy(bot, chat, stored)) deliver(sim, bot, type, stored.message);
  }
}
