/**
 * Chat settings and invite links: getChat, default permissions, title,
 * description, photo, and the invite link methods.
 */
import { badRequest } from "../errors.ts";
import { type FileRecord, storeFile, storeUpload } from "../files.ts";
import type { ChatState } from "../model.ts";
import type { FileInput } from "../spec/params.ts";
import { chatObject } from "../world/chats.ts";
import { isAdmin } from "../world/delivery.ts";
import {
  createInviteLink,
  inviteLinkObject,
  primaryLink,
  replacePrimaryLink,
} from "../world/links.ts";
import { postServiceMessage } from "../world/messages.ts";
import { effectivePermissions } from "../world/permissions.ts";
import {
  chatParam,
  hasRight,
  type MethodContext,
  type MethodTable,
  requireBotInChat,
  requireGroupOrChannel,
  requireRight,
} from "./context.ts";
import { readPermissions } from "./members.ts";

function photoOf(photo: { small: FileRecord; big: FileRecord }) {
  return {
    small_file_id: photo.small.file_id,
    small_file_unique_id: photo.small.file_unique_id,
    big_file_id: photo.big.file_id,
    big_file_unique_id: photo.big.file_unique_id,
  };
}

function getChat(ctx: MethodContext) {
  const chat = chatParam(ctx);
  const { sim } = ctx;
  const base = {
    ...chatObject(sim, chat),
    accent_color_id: 0,
    max_reaction_count: 11,
    accepted_gift_types: {
      unlimited_gifts: false,
      limited_gifts: false,
      unique_gifts: false,
      premium_subscription: false,
      gifts_from_channels: false,
    },
  };
  if (chat.peer) {
    const user = sim.world.users.get(chat.id);
    const photo = user?.profilePhotos[0];
    return {
      ...base,
      ...(user?.bio ? { bio: user.bio } : {}),
      ...(photo ? { photo: photoOf({ small: photo, big: photo }) } : {}),
    };
  }
  const me = sim.world.chats.get(chat.id)?.members.get(ctx.bot.user.id);
  if (!chat.username || (me && me.status !== "left")) requireBotInChat(sim, ctx.bot, chat);
  const pinnedId = chat.pinned.at(-1);
  const pinned = pinnedId === undefined ? undefined : chat.messages.get(pinnedId);
  const link = primaryLink(chat);
  const linkVisible = link && hasRight(me, "can_invite_users");
  return {
    ...base,
    ...(chat.photo ? { photo: photoOf(chat.photo) } : {}),
    ...(chat.description ? { description: chat.description } : {}),
    ...(linkVisible ? { invite_link: link.link } : {}),
    ...(pinned && !pinned.deleted ? { pinned_message: pinned.message } : {}),
    ...(chat.type === "channel" ? {} : { permissions: chat.permissions }),
    ...(chat.type === "supergroup" ? { has_visible_history: true } : {}),
  };
}

/** Changing chat info needs can_change_info, which members may also hold through the chat's permissions. */
function requireChangeInfo(ctx: MethodContext, chat: ChatState, what: string) {
  if (chat.peer) throw badRequest(`chat ${what} can't be changed in private chats`);
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  const allowed =
    chat.type === "channel" || isAdmin(me)
      ? hasRight(me, "can_change_info")
      : effectivePermissions(chat, me).can_change_info;
  if (!allowed) throw badRequest(`not enough rights to change chat ${what}`);
}

function setChatPermissions(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (chat.type !== "group" && chat.type !== "supergroup") {
    throw badRequest("method is available only for supergroups and basic groups");
  }
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  requireRight(me, "can_restrict_members", "not enough rights to change chat permissions");
  const next = readPermissions(
    ctx.params.permissions,
    ctx.params.use_independent_chat_permissions === true,
  );
  if (JSON.stringify(next) === JSON.stringify(chat.permissions)) {
    throw badRequest("CHAT_NOT_MODIFIED");
  }
  chat.permissions = next;
  return true;
}

function setChatTitle(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireChangeInfo(ctx, chat, "title");
  const title = (ctx.params.title as string).trim();
  if (title === "") throw badRequest("chat title is empty");
  if (title.length > 128) throw badRequest("chat title is too long");
  if (title === chat.title) throw badRequest("chat title is not modified");
  chat.title = title;
  postServiceMessage(ctx.sim, chat, ctx.bot.user.id, { new_chat_title: title });
  return true;
}

function setChatDescription(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireChangeInfo(ctx, chat, "description");
  const description = (ctx.params.description as string | undefined) ?? "";
  if (description.length > 255) throw badRequest("chat description is too long");
  if (description === (chat.description ?? ""))
    throw badRequest("chat description is not modified");
  if (description) chat.description = description;
  else delete chat.description;
  return true;
}

function setChatPhoto(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireChangeInfo(ctx, chat, "photo");
  const input = ctx.params.photo as FileInput;
  if (!("upload" in input)) throw badRequest("photo must be uploaded as an InputFile");
  const big = storeUpload(ctx.sim.files, "chat_photo", input.upload);
  const small = storeFile(ctx.sim.files, "chat_photo", input.upload.data);
  chat.photo = { small, big };
  postServiceMessage(ctx.sim, chat, ctx.bot.user.id, {
    new_chat_photo: [
      {
        file_id: small.file_id,
        file_unique_id: small.file_unique_id,
        width: 160,
        height: 160,
        file_size: small.data.length,
      },
      {
        file_id: big.file_id,
        file_unique_id: big.file_unique_id,
        width: big.width ?? 640,
        height: big.height ?? 640,
        file_size: big.data.length,
      },
    ],
  });
  return true;
}

function deleteChatPhoto(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireChangeInfo(ctx, chat, "photo");
  if (!chat.photo) throw badRequest("CHAT_NOT_MODIFIED");
  delete chat.photo;
  postServiceMessage(ctx.sim, chat, ctx.bot.user.id, { delete_chat_photo: true });
  return true;
}

function requireInviteRight(ctx: MethodContext, chat: ChatState, reason: string) {
  requireGroupOrChannel(chat);
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  if (!isAdmin(me) || !hasRight(me, "can_invite_users")) throw badRequest(reason);
}

function exportChatInviteLink(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireInviteRight(ctx, chat, "not enough rights to export chat invite link");
  return replacePrimaryLink(ctx.sim, chat, ctx.bot.user.id).link;
}

function linkOptions(ctx: MethodContext) {
  const name = ctx.params.name as string | undefined;
  if (name !== undefined && name.length > 32) throw badRequest("invite link name is too long");
  const limit = ctx.params.member_limit as number | undefined;
  if (limit !== undefined && (limit < 1 || limit > 99999))
    throw badRequest("member limit is invalid");
  const expire = ctx.params.expire_date as number | undefined;
  if (expire !== undefined && expire !== 0 && expire <= ctx.sim.clock.now())
    throw badRequest("EXPIRE_DATE_INVALID");
  const joinRequest = ctx.params.creates_join_request === true;
  if (joinRequest && limit !== undefined) {
    throw badRequest("member limit can't be specified for links requiring administrator approval");
  }
  return {
    ...(name !== undefined ? { name } : {}),
    ...(limit !== undefined ? { member_limit: limit } : {}),
    ...(expire ? { expire_date: expire } : {}),
    ...(ctx.params.creates_join_request !== undefined ? { creates_join_request: joinRequest } : {}),
  };
}

function createChatInviteLink(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireInviteRight(ctx, chat, "CHAT_ADMIN_REQUIRED");
  const link = createInviteLink(ctx.sim, chat, ctx.bot.user.id, linkOptions(ctx));
  return inviteLinkObject(ctx.sim, chat, link, ctx.bot.user.id);
}

function ownLink(ctx: MethodContext, chat: ChatState) {
  const link = chat.inviteLinks.get(ctx.params.invite_link as string);
  if (!link) throw badRequest("INVITE_HASH_EXPIRED");
  const me = chat.members.get(ctx.bot.user.id);
  if (link.creatorId !== ctx.bot.user.id && me?.status !== "creator")
    throw badRequest("CHAT_ADMIN_REQUIRED");
  return link;
}

function editChatInviteLink(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireInviteRight(ctx, chat, "CHAT_ADMIN_REQUIRED");
  const link = ownLink(ctx, chat);
  if (link.isRevoked) throw badRequest("INVITE_HASH_EXPIRED");
  const options = linkOptions(ctx);
  if ("name" in options) link.name = options.name || undefined;
  if ("member_limit" in options) link.memberLimit = options.member_limit || undefined;
  if ("expire_date" in options) link.expireDate = options.expire_date;
  else if (ctx.params.expire_date === 0) delete link.expireDate;
  if ("creates_join_request" in options)
    link.createsJoinRequest = options.creates_join_request ?? false;
  return inviteLinkObject(ctx.sim, chat, link, ctx.bot.user.id);
}

function revokeChatInviteLink(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requireInviteRight(ctx, chat, "CHAT_ADMIN_REQUIRED");
  const link = ownLink(ctx, chat);
  if (link.isPrimary) {
    replacePrimaryLink(ctx.sim, chat, ctx.bot.user.id);
  } else {
    link.isRevoked = true;
  }
  return inviteLinkObject(ctx.sim, chat, link, ctx.bot.user.id);
}

export const chatMethods: MethodTable = {
  getChat,
  setChatPermissions,
  setChatTitle,
  setChatDescription,
  setChatPhoto,
  deleteChatPhoto,
  exportChatInviteLink,
  createChatInviteLink,
  editChatInviteLink,
  revokeChatInviteLink,
};
