import type { Chat, ChatMemberUpdated, Message, Update, User } from "grammy/types";
import type { RedisWrite } from "../store/cases.ts";
import { chatParts } from "../store/keys.ts";
import { casePrefix, collectParts as parts } from "./keys.ts";
import { FILE_FIELDS, minimiseMessage } from "./minimise.ts";
import { offerText } from "./offer-text.ts";
import type { MemberFact, MessageFact, OnceWrite, UpdateFacts } from "./persist.ts";
import { topicWrites } from "./topics.ts";

/**
 * Turns one update into the facts Warden keeps in one case: who the people in
 * it are, what they posted (every version), and how membership changed. Pure:
 * it reads nothing and writes nothing.
 */

// In this order: a GIF comes with both `animation` and `document`, and is an animation.
const MESSAGE_KINDS = [
  "text",
  "photo",
  ...FILE_FIELDS,
  "poll",
  "contact",
  "location",
  "venue",
  "dice",
  "story",
  "paid_media",
] as const;

export function messageKind(message: Message): string {
  for (const kind of MESSAGE_KINDS) {
    if (kind in message) return kind;
  }
  return "service";
}

/**
 * Telegram's own accounts that stand in for someone hidden: anonymous admins
 * (GroupAnonymousBot), posts as a channel (Channel_Bot) and channel posts
 * forwarded into a discussion group (Telegram, 777000). They are not members;
 * the message's `sender_chat` says who posted.
 */
export const STAND_IN_ACCOUNTS: ReadonlySet<number> = new Set([1087968824, 136817688, 777000]);

/** What the detector said about a message, as stored. */
export interface OfferVerdict {
  score: number;
  rules: string[];
}

export interface FactsOptions {
  /** Collection categories the case keeps (src/collect/minimise.ts). */
  keep: ReadonlySet<string>;
  /** Scores a text or caption; without it nothing is flagged. */
  detect?: (text: string) => { trade: boolean; score: number; rules: string[] };
  /** For private messages: whether the sender was seen in this case before, or attributed by rule. */
  attribution?: "seen" | "unseen";
}

/** A media file a message carries, for the optional download. */
export interface MediaRef {
  file_id: string;
  file_unique_id: string;
  file_size?: number;
  mime_type?: string;
  file_name?: string;
  kind: string;
}

export interface CollectedUpdate {
  facts: UpdateFacts;
  chatId: number;
  messageId?: number;
  offer?: OfferVerdict;
  /** The message is a forward (trade freezes remove those: permissions cannot block them). */
  forwarded: boolean;
  /** Why the admin roster should be read again, if a member update shows an admin change. */
  rosterChange: boolean;
  /** Membership changed (join, leave, kick): the member count is worth reading again. */
  membershipChange: boolean;
  media: MediaRef[];
}

/** Lone UTF-16 surrogates cannot be written as UTF-8 (Redis's JSON reader refuses them). */
const LONE_SURROGATE = /\p{Cs}/u;

function wellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(/\p{Cs}/gu, "\uFFFD") : text;
}

interface MemberStrings {
  user: User;
  profiles: boolean;
  profile: string;
  nameSignature: string;
  usernameLower: string;
}

/**
 * The JSON of members seen lately, by user id: most updates come from people
 * seen a moment ago under the same name, and their strings are then reused
 * instead of built again. A memo only; bounded, and cleared when full.
 */
const memberMemo = new Map<number, MemberStrings>();
const MEMBER_MEMO_SIZE = 20_000;

function sameProfile(a: User, b: User): boolean {
  return (
    a.first_name === b.first_name &&
    a.last_name === b.last_name &&
    a.username === b.username &&
    a.is_bot === b.is_bot &&
    a.language_code === b.language_code &&
    a.is_premium === b.is_premium
  );
}

function memberStrings(user: User, profiles: boolean): MemberStrings {
  const memo = memberMemo.get(user.id);
  if (memo && memo.profiles === profiles && (memo.user === user || sameProfile(memo.user, user)))
    return memo;
  const profile = {
    id: user.id,
    is_bot: user.is_bot,
    first_name: wellFormed(user.first_name),
    ...(user.last_name !== undefined ? { last_name: wellFormed(user.last_name) } : {}),
    ...(user.username !== undefined ? { username: user.username } : {}),
    ...(profiles && user.language_code !== undefined ? { language_code: user.language_code } : {}),
    ...(profiles && user.is_premium !== undefined ? { is_premium: user.is_premium } : {}),
  };
  const strings: MemberStrings = {
    user,
    profiles,
    profile: JSON.stringify(profile),
    nameSignature: JSON.stringify([
      profile.first_name,
      profile.last_name ?? null,
      profile.username ?? null,
    ]),
    usernameLower: user.username?.toLowerCase() ?? "",
  };
  if (memberMemo.size >= MEMBER_MEMO_SIZE) memberMemo.clear();
  memberMemo.set(user.id, strings);
  return strings;
}

function memberFact(user: User, countField: string, keep: ReadonlySet<string>): MemberFact {
  const { profile, nameSignature, usernameLower } = memberStrings(user, keep.has("profiles"));
  return { userId: user.id, profile, nameSignature, usernameLower, countField };
}

/** The sender Warden attributes a message to: the user, or for channel and anonymous posts the sender chat. */
export function senderId(message: Message): number | undefined {
  return message.sender_chat?.id ?? message.from?.id;
}

/** The files a message carries: the largest size of a photo, the file of anything else. */
export function mediaOf(message: Message): MediaRef[] {
  const out: MediaRef[] = [];
  const largest = message.photo?.at(-1);
  if (largest) {
    out.push({
      kind: "photo",
      file_id: largest.file_id,
      file_unique_id: largest.file_unique_id,
      ...(largest.file_size !== undefined ? { file_size: largest.file_size } : {}),
      mime_type: "image/jpeg",
    });
  }
  for (const kind of FILE_FIELDS) {
    const file = message[kind] as
      | { file_id: string; file_unique_id: string; file_size?: number; mime_type?: string }
      | undefined;
    if (!file) continue;
    const name = (file as { file_name?: string }).file_name;
    out.push({
      kind,
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      ...(file.file_size !== undefined ? { file_size: file.file_size } : {}),
      ...(file.mime_type !== undefined ? { mime_type: file.mime_type } : {}),
      ...(name !== undefined ? { file_name: name } : {}),
    });
  }
  return out;
}

function event(fields: Record<string, unknown>): RedisWrite {
  return ["XADD", parts.events(), "*", "e", JSON.stringify(fields)];
}

function inviteLink(link: ChatMemberUpdated["invite_link"]) {
  return link
    ? {
        invite_link: {
          name: link.name ?? null,
          link: link.invite_link,
          creator_id: link.creator.id,
        },
      }
    : {};
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
    ...inviteLink(u.invite_link),
    ...(u.via_join_request ? { via_join_request: true } : {}),
    ...(u.via_chat_folder_invite_link ? { via_chat_folder_invite_link: true } : {}),
    ...(after.status === "restricted" || after.status === "kicked"
      ? { until_date: after.until_date }
      : {}),
    ...(after.status === "restricted" ? { member: after } : {}),
    ...(after.status === "administrator" || after.status === "creator" ? { rights: after } : {}),
  };
}

const ADMIN_STATUSES = new Set(["administrator", "creator"]);

/** In the chat (counted by getChatMemberCount): a member, an admin, or restricted but still a member. */
function isPresent(member: ChatMemberUpdated["new_chat_member"]): boolean {
  if (member.status === "restricted") return member.is_member;
  return member.status !== "left" && member.status !== "kicked";
}

function isAdminChange(u: ChatMemberUpdated): boolean {
  const before = u.old_chat_member;
  const after = u.new_chat_member;
  if (!ADMIN_STATUSES.has(before.status) && !ADMIN_STATUSES.has(after.status)) return false;
  return JSON.stringify({ ...before, user: 0 }) !== JSON.stringify({ ...after, user: 0 });
}

/** The chat an update belongs to, for the updates Warden collects. */
export function chatOfUpdate(update: Update): Chat | undefined {
  return (
    update.message?.chat ??
    update.edited_message?.chat ??
    update.chat_member?.chat ??
    update.my_chat_member?.chat ??
    update.chat_join_request?.chat ??
    update.message_reaction?.chat ??
    update.message_reaction_count?.chat
  );
}

/** The facts of one update in one case, or undefined when it carries nothing to keep. */
export function factsOf(
  caseId: string,
  update: Update,
  receivedAt: number,
  opts: FactsOptions,
): CollectedUpdate | undefined {
  const { keep } = opts;
  const members: MemberFact[] = [];
  const once: OnceWrite[] = [];
  const writes: RedisWrite[] = [];
  const base = { update_id: update.update_id };
  const person = (user: User | undefined, countField: string) => {
    if (user && Number.isSafeInteger(user.id) && !STAND_IN_ACCOUNTS.has(user.id))
      members.push(memberFact(user, countField, keep));
  };
  let chatId: number | undefined;
  let messageId: number | undefined;
  let offer: OfferVerdict | undefined;
  let forwarded = false;
  let rosterChange = false;
  let membershipChange = false;
  let media: MediaRef[] = [];
  let messageFact: MessageFact | undefined;

  const message = update.message ?? update.edited_message;
  if (message) {
    chatId = message.chat.id;
    messageId = message.message_id;
    const edited = update.edited_message !== undefined;
    const kind = messageKind(message);
    const isPrivate = message.chat.type === "private";
    const text = opts.detect ? offerText(message) : undefined;
    if (text !== undefined && opts.detect) {
      const verdict = opts.detect(text);
      if (verdict.trade) offer = { score: verdict.score, rules: verdict.rules };
    }
    forwarded = message.forward_origin !== undefined;
    // Built as text around the message's JSON: the same bytes as stringifying one object, one copy fewer.
    const stored = `{"update_id":${update.update_id},"received_at":${receivedAt},"edited":${edited}${
      offer ? `,"offer":${JSON.stringify(offer)}` : ""
    }${isPrivate && opts.attribution ? `,"attribution":"${opts.attribution}"` : ""},"message":${JSON.stringify(
      minimiseMessage(message, keep as Set<string>),
    )}}`;
    const countField = isPrivate ? "count:private" : edited ? "count:edits" : `count:${kind}`;
    if (message.sender_chat) {
      const sc = message.sender_chat;
      writes.push(
        [
          "HSET",
          parts.senderChats(),
          String(sc.id),
          JSON.stringify({
            id: sc.id,
            type: sc.type,
            ...("title" in sc && sc.title !== undefined ? { title: sc.title } : {}),
            ...("username" in sc && sc.username !== undefined ? { username: sc.username } : {}),
            last_seen: receivedAt,
          }),
        ],
        ["HINCRBY", parts.senderChatCounts(), `${sc.id}:${countField}`, 1],
      );
    } else {
      person(message.from, countField);
    }
    const sender = senderId(message);
    messageFact = { chatId, messageId, date: message.date, stored, edited };
    if (sender !== undefined) messageFact.senderId = sender;
    if (isPrivate) writes.push(["SADD", parts.privateChats(), chatId]);
    else if (message.is_topic_message) writes.push(...topicWrites(message, update.update_id));
    if (message.media_group_id !== undefined && !edited)
      writes.push([
        "HSET",
        parts.album(chatId, message.media_group_id),
        messageId,
        update.update_id,
      ]);
    if (offer && sender !== undefined) {
      const byChat = message.sender_chat !== undefined;
      once.push({
        key: parts.offers(),
        field: `${chatId}:${messageId}`,
        value: JSON.stringify({ ...offer, ...base, sender_id: sender }),
        counterKey: byChat ? parts.senderChatCounts() : parts.member(sender),
        counterField: byChat ? `${sender}:count:offers` : "count:offers",
      });
    }
    if (keep.has("files")) {
      media = mediaOf(message);
      for (const m of media) {
        writes.push([
          "HSETNX",
          parts.filesPending(),
          m.file_unique_id,
          JSON.stringify({ ...m, chat_id: chatId, message_id: messageId, ...base }),
        ]);
      }
    }
    for (const joined of message.new_chat_members ?? []) {
      membershipChange = true;
      person(joined, "");
      writes.push(
        event({
          kind: "join",
          ...base,
          chat_id: chatId,
          date: message.date,
          user_id: joined.id,
          by: message.from?.id,
          ...(message.from && message.from.id !== joined.id ? { added_by: message.from.id } : {}),
        }),
      );
    }
    if (message.left_chat_member) {
      membershipChange = true;
      person(message.left_chat_member, "");
      writes.push(
        event({
          kind: "leave",
          ...base,
          chat_id: chatId,
          date: message.date,
          user_id: message.left_chat_member.id,
          by: message.from?.id,
        }),
      );
    }
  }

  const memberUpdate = update.chat_member ?? update.my_chat_member;
  if (memberUpdate) {
    chatId = memberUpdate.chat.id;
    const kind = update.my_chat_member ? "bot-status" : "member-status";
    const subject = memberUpdate.new_chat_member.user;
    person(subject, "");
    if (memberUpdate.from.id !== subject.id) person(memberUpdate.from, "");
    rosterChange = isAdminChange(memberUpdate);
    membershipChange =
      isPresent(memberUpdate.old_chat_member) !== isPresent(memberUpdate.new_chat_member);
    writes.push(event(memberUpdateEvent(memberUpdate, update.update_id, kind)), [
      "RPUSH",
      parts.memberStatus(subject.id),
      JSON.stringify({
        at: receivedAt,
        date: memberUpdate.date,
        chat_id: chatId,
        status: memberUpdate.new_chat_member.status,
        by: memberUpdate.from.id,
      }),
    ]);
  }

  const request = update.chat_join_request;
  if (request) {
    chatId = request.chat.id;
    person(request.from, "");
    writes.push(
      event({
        kind: "join-request",
        ...base,
        chat_id: chatId,
        date: request.date,
        user_id: request.from.id,
        ...(keep.has("bios") && request.bio ? { bio: request.bio } : {}),
        ...inviteLink(request.invite_link),
      }),
    );
  }

  const reaction = update.message_reaction;
  if (reaction) {
    chatId = reaction.chat.id;
    person(reaction.user, "count:reactions");
    writes.push(
      event({
        kind: "reaction",
        ...base,
        chat_id: chatId,
        date: reaction.date,
        message_id: reaction.message_id,
        ...(reaction.user ? { user_id: reaction.user.id } : {}),
        ...(reaction.actor_chat ? { actor_chat_id: reaction.actor_chat.id } : {}),
        old: reaction.old_reaction,
        new: reaction.new_reaction,
      }),
    );
  }

  if (chatId === undefined || (members.length === 0 && writes.length === 0 && !messageFact))
    return undefined;
  // For a possible trade-freeze violation, the chat's freeze mode is read in the same step.
  const watch = (offer !== undefined || forwarded) && chatId < 0;
  // Built field by field: this runs for every update, and each conditional spread is an object more.
  const facts: UpdateFacts = {
    prefix: casePrefix(caseId),
    updateId: update.update_id,
    receivedAt,
    members,
    once,
    writes,
  };
  if (messageFact) facts.message = messageFact;
  if (watch) facts.stateKey = chatParts.state(chatId);
  const collected: CollectedUpdate = {
    facts,
    chatId,
    forwarded,
    rosterChange,
    membershipChange,
    media,
  };
  if (messageId !== undefined) collected.messageId = messageId;
  if (offer) collected.offer = offer;
  return collected;
}

/**
 * An update the recorder could not turn into facts (a shape it does not know,
 * or a bug): kept whole rather than lost, so it can be read later.
 */
export function rawFacts(caseId: string, update: Update, receivedAt: number): UpdateFacts {
  return {
    prefix: casePrefix(caseId),
    updateId: update.update_id,
    receivedAt,
    members: [],
    once: [],
    writes: [
      event({
        kind: "raw-update",
        update_id: update.update_id,
        received_at: receivedAt,
        update,
      }),
    ],
  };
}
