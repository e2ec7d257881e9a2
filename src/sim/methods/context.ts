/**
 * What a Bot API method implementation receives, and the checks most of them
 * share: resolving the target chat, the calling bot's presence and rights,
 * and the target user.
 */
import { badRequest, forbidden } from "../errors.ts";
import type { AdminRight, BotState, ChatState, Membership, UserState } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import type { Params, Upload } from "../spec/params.ts";
import { chatKindWords, resolveChatForBot } from "../world/chats.ts";
import { isAdmin, isPresent } from "../world/delivery.ts";
import { memberOf } from "../world/members.ts";

export interface MethodContext {
  sim: Simulator;
  bot: BotState;
  /** Parameters typed according to the spec. */
  params: Params;
  /** The parameters as sent, for the few undocumented ones Telegram still honours. */
  raw: Params;
  /** Files of a multipart request by part name, for `attach://` references inside JSON parameters. */
  uploads: Map<string, Upload>;
  /** Aborts when the client disconnects. */
  signal: AbortSignal;
}

export type MethodHandler = (ctx: MethodContext) => unknown;
export type MethodTable = Record<string, MethodHandler>;

export function chatParam(ctx: MethodContext, name = "chat_id"): ChatState {
  return resolveChatForBot(ctx.sim, ctx.bot, ctx.params[name] as number | string);
}

/**
 * The calling bot's membership in a group or channel it must be in. A chat
 * the bot has never been part of is "not found" to it, as on Telegram.
 */
export function requireBotInChat(sim: Simulator, bot: BotState, chat: ChatState): Membership {
  const m = memberOf(sim, chat, bot.user.id);
  if (!m) {
    if (chat.username) throw forbidden(`bot is not a member of the ${chatKindWords(chat)}`);
    throw badRequest("chat not found");
  }
  if (m.status === "kicked") throw forbidden(`bot was kicked from the ${chatKindWords(chat)}`);
  if (!isPresent(m)) throw forbidden(`bot is not a member of the ${chatKindWords(chat)}`);
  return m;
}

/** Private dialogs need the user to have written first and not to have blocked the bot. */
export function requireDialogOpen(sim: Simulator, bot: BotState, chat: ChatState) {
  const userId = chat.peer?.userId ?? chat.id;
  const user = sim.world.users.get(userId);
  if (user?.user.is_bot) throw forbidden("bot can't send messages to bots");
  if (bot.blockedBy.has(userId)) throw forbidden("bot was blocked by the user");
  if (!bot.talkedTo.has(userId)) throw forbidden("bot can't initiate conversation with a user");
}

export function hasRight(m: Membership | undefined, right: AdminRight): boolean {
  if (m?.status === "creator") return true;
  return m?.status === "administrator" && m.rights?.[right] === true;
}

export function requireRight(m: Membership, right: AdminRight, reason: string) {
  if (!hasRight(m, right)) throw badRequest(reason);
}

export function requireAdmin(m: Membership, reason: string) {
  if (!isAdmin(m)) throw badRequest(reason);
}

export function requireSupergroup(chat: ChatState) {
  if (chat.type !== "supergroup") throw badRequest("method is available only for supergroups");
}

export function requireGroupOrChannel(chat: ChatState) {
  if (chat.type === "private") {
    throw badRequest("method is available for supergroup and channel chats only");
  }
}

/** The user named by `user_id`; ids Telegram never issued are refused. */
export function userParam(ctx: MethodContext, name = "user_id"): UserState {
  const id = ctx.params[name];
  if (typeof id !== "number" || id <= 0) throw badRequest("invalid user_id specified");
  const user = ctx.sim.world.users.get(id);
  if (!user) throw badRequest("user not found");
  return user;
}
