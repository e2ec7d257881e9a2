/**
 * Read-only views of the world for the control API: everything a test or a
 * rehearsal report wants to see, including what bots cannot (deleted
 * messages with who deleted them and when, invite link usage counts).
 */
import type { BotState, ChatState } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "../world/accounts.ts";
import { inviteLinkObject } from "../world/links.ts";
import { memberOf } from "../world/members.ts";
import { forumTopicObject, GENERAL_TOPIC_ID } from "../world/topics.ts";

/** A forum's topics as the control API shows them: General, and every topic ever created. */
export function topicsSnapshot(chat: ChatState) {
  return {
    general: {
      message_thread_id: GENERAL_TOPIC_ID,
      name: chat.general.name,
      is_closed: chat.general.isClosed,
      is_hidden: chat.general.isHidden,
    },
    topics: [...chat.topics.values()].map((t) => ({
      ...forumTopicObject(t),
      creator_id: t.creatorId,
      is_closed: t.isClosed,
      created_at: t.createdAt,
      ...(t.deleted ? { deleted: { by: t.deleted.by, at: t.deleted.at } } : {}),
    })),
  };
}

export function chatSnapshot(sim: Simulator, chat: ChatState) {
  for (const id of chat.members.keys()) memberOf(sim, chat, id);
  return {
    id: chat.id,
    type: chat.type,
    ...(chat.title !== undefined ? { title: chat.title } : {}),
    ...(chat.username ? { username: chat.username } : {}),
    ...(chat.description ? { description: chat.description } : {}),
    photo: chat.photo
      ? { small_file_id: chat.photo.small.file_id, big_file_id: chat.photo.big.file_id }
      : null,
    permissions: chat.permissions,
    ...(chat.isForum ? { is_forum: true } : {}),
    ...(chat.isForum || chat.topics.size > 0 ? { forum: topicsSnapshot(chat) } : {}),
    ...(chat.migratedTo !== undefined ? { migrated_to_chat_id: chat.migratedTo } : {}),
    ...(chat.migratedFrom !== undefined ? { migrated_from_chat_id: chat.migratedFrom } : {}),
    ...(chat.peer ? { bot_id: chat.peer.botId } : {}),
    members: [...chat.members.values()].map((m) => ({
      user: userObject(sim, m.userId),
      status: m.status,
      is_anonymous: m.isAnonymous,
      ...(m.customTitle ? { custom_title: m.customTitle } : {}),
      ...(m.rights ? { rights: m.rights } : {}),
      ...(m.promotedBy !== undefined ? { promoted_by: m.promotedBy } : {}),
      ...(m.permissions ? { permissions: m.permissions } : {}),
      ...(m.status === "restricted" ? { is_member: m.isMember } : {}),
      until_date: m.untilDate,
    })),
    messages: [...chat.messages.values()].map((s) => ({
      message: s.message,
      sender_id: s.senderId,
      is_service: s.isService,
      ...(s.deleted ? { deleted: { by: s.deleted.by, at: s.deleted.at } } : {}),
      ...(s.edits.length > 0 ? { edits: s.edits } : {}),
    })),
    pinned_message_ids: [...chat.pinned],
    invite_links: [...chat.inviteLinks.values()].map((link) => ({
      ...inviteLinkObject(sim, chat, link),
      usage: link.usage,
      created_at: link.createdAt,
    })),
    join_requests: [...chat.joinRequests.values()].map((r) => ({
      user: userObject(sim, r.userId),
      date: r.date,
      ...(r.bio ? { bio: r.bio } : {}),
      ...(r.inviteLink ? { invite_link: r.inviteLink } : {}),
    })),
    banned_sender_chat_ids: [...chat.bannedSenderChats],
  };
}

export function botSnapshot(bot: BotState) {
  return {
    id: bot.user.id,
    user: bot.user,
    token: bot.token,
    privacy: bot.privacy,
    polling: bot.updates.poll !== undefined,
    ...(bot.updates.pollOpenedAt !== undefined ? { poll_opened_at: bot.updates.pollOpenedAt } : {}),
    pending_update_count: bot.updates.items.length,
    allowed_updates: bot.updates.allowed ?? [],
    webhook: bot.webhook
      ? {
          url: bot.webhook.url,
          ...(bot.webhook.lastErrorMessage
            ? { last_error_message: bot.webhook.lastErrorMessage }
            : {}),
        }
      : null,
    blocked_by: [...bot.blockedBy],
    commands: Object.fromEntries(bot.commands),
  };
}
