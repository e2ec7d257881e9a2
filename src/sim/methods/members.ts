/**
 * Member management: restrict, ban, unban, promote, inspect members, leave,
 * and answer join requests. Checks run in Telegram's order: the chat kind,
 * the bot's presence, the target, the bot's right, then the target's status.
 */
import { givenPermissions, type Permission, type Permissions } from "../chat-permissions.ts";
import { badRequest } from "../errors.ts";
import {
  ADMIN_RIGHTS,
  type AdminRights,
  allRights,
  type ChatState,
  type Membership,
} from "../model.ts";
import {
  banMember,
  joinChat,
  normalizeUntilDate,
  promoteMember,
  restrictMember,
  unbanMember,
} from "../world/actions.ts";
import { isAdmin, isPresent } from "../world/delivery.ts";
import {
  changeMember,
  leftMembership,
  memberObject,
  memberOf,
  rightsForChat,
} from "../world/members.ts";
import {
  chatParam,
  hasRight,
  type MethodContext,
  type MethodTable,
  requireBotInChat,
  requireGroupOrChannel,
  requireRight,
  requireSupergroup,
  userParam,
} from "./context.ts";

const RESTRICT_RIGHTS = "not enough rights to restrict/unrestrict chat member";

/** The permissions that sending other messages, link previews or (legacy) media all imply. */
const MESSAGES_AND_MEDIA: readonly Permission[] = [
  "can_send_messages",
  "can_send_audios",
  "can_send_documents",
  "can_send_photos",
  "can_send_videos",
  "can_send_video_notes",
  "can_send_voice_notes",
];

/**
 * Reads a ChatPermissions object the way setChatPermissions and
 * restrictChatMember do: omitted fields are false, and unless the caller
 * asks for independent permissions, broader permissions imply the basic ones.
 */
export function readPermissions(value: unknown, independent: boolean): Permissions {
  const p = givenPermissions(value);
  if (independent) return p;
  // Legacy clients send can_send_media_messages; Telegram still maps it.
  const legacyMedia = (value as Record<string, unknown> | undefined)?.can_send_media_messages;
  if (p.can_send_other_messages || p.can_add_web_page_previews || legacyMedia === true) {
    for (const k of MESSAGES_AND_MEDIA) p[k] = true;
  }
  if (p.can_send_polls) p.can_send_messages = true;
  return p;
}

function targetMember(ctx: MethodContext, chat: ChatState, userId: number): Membership {
  return memberOf(ctx.sim, chat, userId) ?? leftMembership(userId);
}

/** May the bot act on this administrator? Only the owner and the admin's promoter can. */
function botOutranks(bot: Membership, target: Membership, botId: number) {
  return bot.status === "creator" || target.promotedBy === botId;
}

function restrictChatMember(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireSupergroup(chat);
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const user = userParam(ctx);
  if (user.user.id === ctx.bot.user.id) throw badRequest("can't restrict self");
  requireRight(me, "can_restrict_members", RESTRICT_RIGHTS);
  const target = targetMember(ctx, chat, user.user.id);
  if (target.status === "creator") throw badRequest("can't remove chat owner");
  if (target.status === "administrator") throw badRequest("user is an administrator of the chat");
  const permissions = readPermissions(
    ctx.params.permissions,
    ctx.params.use_independent_chat_permissions === true,
  );
  const until = normalizeUntilDate(ctx.sim, ctx.params.until_date as number | undefined);
  restrictMember(ctx.sim, chat, user.user.id, permissions, until, ctx.bot.user.id);
  return true;
}

function banChatMember(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (chat.type === "private") throw badRequest("can't ban members in private chats");
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const user = userParam(ctx);
  if (user.user.id === ctx.bot.user.id) throw badRequest("can't restrict self");
  requireRight(me, "can_restrict_members", RESTRICT_RIGHTS);
  const target = targetMember(ctx, chat, user.user.id);
  if (target.status === "creator") throw badRequest("can't remove chat owner");
  if (target.status === "administrator" && !botOutranks(me, target, ctx.bot.user.id)) {
    throw badRequest("user is an administrator of the chat");
  }
  const until =
    chat.type === "group"
      ? 0
      : normalizeUntilDate(ctx.sim, ctx.params.until_date as number | undefined);
  banMember(ctx.sim, chat, user.user.id, until, ctx.bot.user.id);
  return true;
}

function unbanChatMember(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (chat.type !== "supergroup" && chat.type !== "channel") {
    throw badRequest("method is available for supergroup and channel chats only");
  }
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const user = userParam(ctx);
  if (user.user.id === ctx.bot.user.id) throw badRequest("can't restrict self");
  requireRight(me, "can_restrict_members", RESTRICT_RIGHTS);
  const target = targetMember(ctx, chat, user.user.id);
  if (target.status === "creator") throw badRequest("can't remove chat owner");
  if (target.status === "administrator" && ctx.params.only_if_banned !== true) {
    throw badRequest("user is an administrator of the chat");
  }
  unbanMember(ctx.sim, chat, user.user.id, ctx.bot.user.id, ctx.params.only_if_banned === true);
  return true;
}

function senderChatParam(ctx: MethodContext, chat: ChatState): number {
  if (chat.type !== "supergroup" && chat.type !== "channel") {
    throw badRequest("method is available for supergroup and channel chats only");
  }
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  requireRight(me, "can_restrict_members", RESTRICT_RIGHTS);
  const id = ctx.params.sender_chat_id as number;
  if (id === chat.id) throw badRequest("can't ban self");
  if (id >= 0 || !ctx.sim.world.chats.has(id)) throw badRequest("sender_chat_id is invalid");
  return id;
}

function banChatSenderChat(ctx: MethodContext) {
  const chat = chatParam(ctx);
  chat.bannedSenderChats.add(senderChatParam(ctx, chat));
  return true;
}

function unbanChatSenderChat(ctx: MethodContext) {
  const chat = chatParam(ctx);
  chat.bannedSenderChats.delete(senderChatParam(ctx, chat));
  return true;
}

function promoteChatMember(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireGroupOrChannel(chat);
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const user = userParam(ctx);
  if (user.user.id === ctx.bot.user.id) throw badRequest("can't promote self");
  if (!hasRight(me, "can_promote_members")) throw badRequest("not enough rights");
  const target = targetMember(ctx, chat, user.user.id);
  if (target.status === "creator") throw badRequest("can't demote chat creator");
  if (target.status === "administrator" && !botOutranks(me, target, ctx.bot.user.id)) {
    throw badRequest("CHAT_ADMIN_REQUIRED");
  }
  if (target.status === "kicked") throw badRequest("USER_NOT_PARTICIPANT");
  const rights = allRights(false);
  for (const right of ADMIN_RIGHTS) rights[right] = ctx.params[right] === true;
  const allowed = rightsForChat(chat, rights);
  for (const right of ADMIN_RIGHTS) if (!(right in allowed)) rights[right] = false;
  if (ADMIN_RIGHTS.some((r) => r !== "can_manage_chat" && rights[r])) rights.can_manage_chat = true;
  for (const right of ADMIN_RIGHTS) {
    if (rights[right] && !hasRight(me, right)) throw badRequest("RIGHT_FORBIDDEN");
  }
  if (!isPresent(target) && Object.values(rights).some(Boolean) && chat.type !== "channel") {
    throw badRequest("USER_NOT_PARTICIPANT");
  }
  promoteMember(
    ctx.sim,
    chat,
    user.user.id,
    { rights: rights as AdminRights, isAnonymous: ctx.params.is_anonymous === true },
    ctx.bot.user.id,
  );
  return true;
}

function setChatAdministratorCustomTitle(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireSupergroup(chat);
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const user = userParam(ctx);
  const title = ctx.params.custom_title as string;
  if (title.length > 16) throw badRequest("ADMIN_RANK_INVALID");
  if (/\p{Extended_Pictographic}/u.test(title)) throw badRequest("ADMIN_RANK_EMOJI_NOT_ALLOWED");
  const target = targetMember(ctx, chat, user.user.id);
  if (target.status !== "administrator") throw badRequest("user is not an administrator");
  if (!botOutranks(me, target, ctx.bot.user.id))
    throw badRequest("not enough rights to change custom title of the user");
  const next: Membership = { ...target };
  if (title) next.customTitle = title;
  else delete next.customTitle;
  changeMember(ctx.sim, chat, next, { actorId: ctx.bot.user.id });
  return true;
}

function getChatMember(ctx: MethodContext) {
  const chat = chatParam(ctx);
  const user = userParam(ctx);
  if (chat.peer) {
    const status =
      user.user.id === chat.peer.userId || user.user.id === ctx.bot.user.id ? "member" : "left";
    return { status, user: user.user };
  }
  requireBotInChat(ctx.sim, ctx.bot, chat);
  return memberObject(ctx.sim, chat, targetMember(ctx, chat, user.user.id), ctx.bot.user.id);
}

function getChatMemberCount(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (chat.peer) return ctx.sim.world.users.get(chat.id)?.user.is_bot ? 1 : 2;
  requireBotInChat(ctx.sim, ctx.bot, chat);
  let count = 0;
  for (const id of chat.members.keys()) if (isPresent(memberOf(ctx.sim, chat, id))) count++;
  return count;
}

function getChatAdministrators(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (chat.peer) throw badRequest("there are no administrators in the private chat");
  requireBotInChat(ctx.sim, ctx.bot, chat);
  const admins: Record<string, unknown>[] = [];
  for (const m of chat.members.values()) {
    if (!isAdmin(m)) continue;
    const isOtherBot =
      ctx.sim.world.users.get(m.userId)?.user.is_bot && m.userId !== ctx.bot.user.id;
    if (isOtherBot) continue;
    admins.push(memberObject(ctx.sim, chat, m, ctx.bot.user.id));
  }
  return admins;
}

function leaveChat(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (chat.peer) throw badRequest("chat member status can't be changed in private chats");
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  if (me.status === "creator") throw badRequest("can't leave chat as its owner");
  const next: Membership =
    me.status === "restricted" ? { ...me, isMember: false } : leftMembership(ctx.bot.user.id);
  changeMember(ctx.sim, chat, next, { actorId: ctx.bot.user.id });
  return true;
}

function joinRequestParams(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireGroupOrChannel(chat);
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const user = userParam(ctx);
  requireRight(me, "can_invite_users", "CHAT_ADMIN_REQUIRED");
  const request = chat.joinRequests.get(user.user.id);
  if (!request) {
    if (isPresent(memberOf(ctx.sim, chat, user.user.id)))
      throw badRequest("USER_ALREADY_PARTICIPANT");
    throw badRequest("HIDE_REQUESTER_MISSING");
  }
  return { chat, request };
}

function approveChatJoinRequest(ctx: MethodContext) {
  const { chat, request } = joinRequestParams(ctx);
  chat.joinRequests.delete(request.userId);
  joinChat(ctx.sim, chat, request.userId, {
    viaJoinRequest: true,
    approvedBy: ctx.bot.user.id,
    ...(request.inviteLink ? { inviteLink: request.inviteLink } : {}),
  });
  return true;
}

function declineChatJoinRequest(ctx: MethodContext) {
  const { chat, request } = joinRequestParams(ctx);
  chat.joinRequests.delete(request.userId);
  return true;
}

export const memberMethods: MethodTable = {
  restrictChatMember,
  banChatMember,
  unbanChatMember,
  banChatSenderChat,
  unbanChatSenderChat,
  promoteChatMember,
  setChatAdministratorCustomTitle,
  getChatMember,
  getChatMemberCount,
  getChatAdministrators,
  leaveChat,
  approveChatJoinRequest,
  declineChatJoinRequest,
};
