import type { Chat, ChatMemberUpdated, Message, Update, User } from "grammy/types";
import type { RedisWrite } from "../store/cases.ts";
import { collectKeys } from "./keys.ts";
import type { MemberFact, UpdateFacts } from "./persist.ts";

/**
 * Turns one update from a seized chat into the facts Warden keeps: who the
 * people in it are, what they posted (every version), and how membership
 * changed. Pure: it reads nothing and writes nothing.
 */

const MESSAGE_KINDS = [
  "text",
  "photo",
  "video",
  "animation",
  "document",
  "audio",
  "voice",
  "video_note",
  "sticker",
  "poll",
  "contact",
  "location",
  "venue",
  "dice",
] as const;

export function messageKind(message: Message): string {
  for (const kind of MESSAGE_KINDS) {
    if (kind in message) return kind;
  }
  return "service";
}

function memberFact(caseId: string, user: User, now: number, countField: string): MemberFact {
  const profile = {
    id: user.id,
    is_bot: user.is_bot,
    first_name: user.first_name,
    ...(user.last_name !== undefined ? { last_name: user.last_name } : {}),
    ...(user.username !== undefined ? { username: user.username } : {}),
    ...(user.language_code !== undefined ? { language_code: user.language_code } : {}),
    ...(user.is_premium !== undefined ? { is_premium: user.is_premium } : {}),
  };
  const names = {
    first_name: user.first_name,
    last_name: user.last_name ?? null,
    username: user.username ?? null,
  };
  return {
    userId: user.id,
    memberKey: collectKeys.member(caseId, user.id),
    namesKey: collectKeys.memberNames(caseId, user.id),
    membersKey: collectKeys.members(caseId),
    usernamesKey: collectKeys.usernames(caseId),
    profile: JSON.stringify(profile),
    nameSignature: JSON.stringify(names),
    nameRecord: JSON.stringify({ ...names, seen: now }),
    usernameLower: user.username?.toLowerCase() ?? "",
    countField,
  };
}

/** The sender Warden attributes a message to: the user, or for channel and anonymous posts the sender chat. */
export function senderId(message: Message): number | undefined {
  return message.sender_chat?.id ?? message.from?.id;
}

function messageWrites(
  caseId: string,
  chat: Chat,
  message: Message,
  meta: { update_id: number; received_at: number },
  edited: boolean,
): RedisWrite[] {
  const stored = JSON.stringify({ ...meta, edited, message });
  const id = message.message_id;
  // The hash keeps the version first seen; every edit is appended to the message's version list,
  // so no version is ever overwritten.
  const writes: RedisWrite[] = edited
    ? [
        ["RPUSH", collectKeys.messageVersions(caseId, chat.id, id), stored],
        ["HSETNX", collectKeys.messages(caseId, chat.id), String(id), stored],
      ]
    : [["HSETNX", collectKeys.messages(caseId, chat.id), String(id), stored]];
  writes.push(["ZADD", collectKeys.messageDates(caseId, chat.id), "NX", message.date, String(id)]);
  const sender = senderId(message);
  if (sender !== undefined) {
    writes.push([
      "ZADD",
      collectKeys.messagesFrom(caseId, chat.id, sender),
      "NX",
      message.date,
      String(id),
    ]);
  }
  return writes;
}

function event(caseId: string, fields: Record<string, unknown>): RedisWrite {
  return ["XADD", collectKeys.events(caseId), "*", "e", JSON.stringify(fields)];
}

function memberUpdateEvent(
  u: ChatMemberUpdated,
  updateId: number,
  kind: string,
): Record<string, unknown> {
  const { old_chat_member: before, new_chat_member: after } = u;
  return {
    kind,
    update_id: updateId,
    chat_id: u.chat.id,
    date: u.date,
    user_id: after.user.id,
    by: u.from.id,
    old_status: before.status,
    new_status: after.status,
    ...(u.invite_link
      ? {
          invite_link: {
            name: u.invite_link.name ?? null,
            link: u.invite_link.invite_link,
            creator_id: u.invite_link.creator.id,
          },
        }
      : {}),
    ...(u.via_join_request ? { via_join_request: true } : {}),
    ...(u.via_chat_folder_invite_link ? { via_chat_folder_invite_link: true } : {}),
    ...(after.status === "restricted" || after.status === "kicked"
      ? { until_date: after.until_date }
      : {}),
    ...(after.status === "restricted" ? { member: after } : {}),
    ...(after.status === "administrator" ? { rights: after } : {}),
  };
}

/** The facts of one update, or undefined when it carries nothing to keep. */
export function factsOf(
  caseId: string,
  update: Update,
  receivedAt: number,
): UpdateFacts | undefined {
  const meta = { update_id: update.update_id, received_at: receivedAt };
  const members: MemberFact[] = [];
  const writes: RedisWrite[] = [];
  const message = update.message ?? update.edited_message;
  if (message) {
    const edited = update.edited_message !== undefined;
    const kind = messageKind(message);
    if (message.from)
      members.push(
        memberFact(caseId, message.from, receivedAt, edited ? "count:edits" : `count:${kind}`),
      );
    writes.push(...messageWrites(caseId, message.chat, message, meta, edited));
    for (const joined of message.new_chat_members ?? []) {
      members.push(memberFact(caseId, joined, receivedAt, ""));
      writes.push(
        event(caseId, {
          kind: "join",
          update_id: update.update_id,
          chat_id: message.chat.id,
          date: message.date,
          user_id: joined.id,
          by: message.from?.id,
          ...(message.from && message.from.id !== joined.id ? { added_by: message.from.id } : {}),
        }),
      );
    }
    if (message.left_chat_member) {
      members.push(memberFact(caseId, message.left_chat_member, receivedAt, ""));
      writes.push(
        event(caseId, {
          kind: "leave",
          update_id: update.update_id,
          chat_id: message.chat.id,
          date: message.date,
          user_id: message.left_chat_member.id,
          by: message.from?.id,
        }),
      );
    }
  }
  const memberUpdate = update.chat_member ?? update.my_chat_member;
  if (memberUpdate) {
    const kind = update.my_chat_member ? "bot-status" : "member-status";
    members.push(memberFact(caseId, memberUpdate.new_chat_member.user, receivedAt, ""));
    if (memberUpdate.from.id !== memberUpdate.new_chat_member.user.id) {
      members.push(memberFact(caseId, memberUpdate.from, receivedAt, ""));
    }
    const ev = memberUpdateEvent(memberUpdate, update.update_id, kind);
    writes.push(event(caseId, ev), [
      "RPUSH",
      collectKeys.memberStatus(caseId, memberUpdate.new_chat_member.user.id),
      JSON.stringify({
        at: receivedAt,
        date: memberUpdate.date,
        chat_id: memberUpdate.chat.id,
        status: memberUpdate.new_chat_member.status,
        by: memberUpdate.from.id,
      }),
    ]);
  }
  const request = update.chat_join_request;
  if (request) {
    members.push(memberFact(caseId, request.from, receivedAt, ""));
    writes.push(
      event(caseId, {
        kind: "join-request",
        update_id: update.update_id,
        chat_id: request.chat.id,
        date: request.date,
        user_id: request.from.id,
        ...(request.bio ? { bio: request.bio } : {}),
        ...(request.invite_link
          ? {
              invite_link: {
                name: request.invite_link.name ?? null,
                link: request.invite_link.invite_link,
                creator_id: request.invite_link.creator.id,
              },
            }
          : {}),
      }),
    );
  }
  if (members.length === 0 && writes.length === 0) return undefined;
  return {
    seenKey: collectKeys.seenUpdates(caseId),
    updateId: update.update_id,
    receivedAt,
    members,
    writes,
  };
}
