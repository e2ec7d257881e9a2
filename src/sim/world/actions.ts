/**
 * What people and bots do to memberships: join, leave, get banned,
 * restricted, promoted; plus join requests and the basic group → supergroup
 * upgrade. Each action stores the new state, posts the service message a
 * Telegram client would show, and emits the membership updates. Rights are
 * checked by the callers (Bot API methods check the calling bot's rights,
 * the control API acts as the chat owner).
 */
import type { Permissions } from "../chat-permissions.ts";
import { ControlError, controlInvalid } from "../errors.ts";
import type { AdminRights, ChatState, InviteLinkState, Membership } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";
import { chatObject, noForum } from "./chats.ts";
import { deliver, isPresent } from "./delivery.ts";
import { inviteLinkObject, linkUnusable } from "./links.ts";
import { changeMember, leftMembership, memberOf } from "./members.ts";
import { postServiceMessage } from "./messages.ts";

/**
 * Telegram treats an until_date less than 30 seconds or more than 366 days
 * away as "forever", which the Bot API reports as 0.
 */
export function normalizeUntilDate(sim: Simulator, untilDate: number | undefined): number {
  if (!untilDate) return 0;
  const delta = untilDate - sim.clock.now();
  return delta < 30 || delta > 366 * 86400 ? 0 : untilDate;
}

export interface JoinOptions {
  inviteLink?: string;
  viaJoinRequest?: boolean;
  /** Someone who added the user, instead of the user joining by themself. */
  addedBy?: number;
  /** The admin who approved the user's join request. */
  approvedBy?: number;
}

function findLink(chat: ChatState, link: string): InviteLinkState | undefined {
  return (
    chat.inviteLinks.get(link) ?? [...chat.inviteLinks.values()].find((l) => l.link.endsWith(link))
  );
}

export function joinChat(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  options: JoinOptions = {},
) {
  const user = userObject(sim, userId);
  if (!user) throw new ControlError(404, `user ${userId} not found`);
  const current = memberOf(sim, chat, userId);
  if (isPresent(current)) throw controlInvalid("USER_ALREADY_PARTICIPANT");
  if (current?.status === "kicked") throw new ControlError(403, "USER_BANNED_IN_CHANNEL");
  let link: InviteLinkState | undefined;
  if (options.inviteLink) {
    link = findLink(chat, options.inviteLink);
    if (!link) throw controlInvalid("INVITE_HASH_INVALID");
    const unusable = options.viaJoinRequest ? undefined : linkUnusable(sim, link);
    if (unusable) throw controlInvalid(unusable);
    if (link.createsJoinRequest && !options.viaJoinRequest) {
      createJoinRequest(sim, chat, userId, { inviteLink: link.link });
      return;
    }
    link.usage += 1;
  } else if (!chat.username && !options.addedBy && !options.viaJoinRequest) {
    // Joining a private chat needs an invitation; the control API allows it
    // anyway (as if the owner added the user) to keep scenarios short.
  }
  const next: Membership =
    current?.status === "restricted"
      ? { ...current, isMember: true }
      : { userId, status: "member", isAnonymous: false, isMember: true, untilDate: 0 };
  const actorId = options.addedBy ?? userId;
  changeMember(sim, chat, next, {
    actorId: options.approvedBy ?? actorId,
    ...(link ? { inviteLink: link } : {}),
    ...(options.viaJoinRequest ? { viaJoinRequest: true } : {}),
  });
  chat.joinRequests.delete(userId);
  // After the change, so a bot that joins sees its own arrival, as on Telegram.
  postServiceMessage(sim, chat, actorId, { new_chat_members: [user] });
}

export function leaveChat(sim: Simulator, chat: ChatState, userId: number) {
  const current = memberOf(sim, chat, userId);
  if (!isPresent(current) || !current) throw controlInvalid("USER_NOT_PARTICIPANT");
  if (current.status === "creator")
    throw controlInvalid("the owner can't leave; transfer the chat first");
  const next: Membership =
    current.status === "restricted" ? { ...current, isMember: false } : leftMembership(userId);
  changeMember(sim, chat, next, { actorId: userId });
  const user = userObject(sim, userId);
  if (user) postServiceMessage(sim, chat, userId, { left_chat_member: user });
}

export function banMember(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  untilDate: number,
  actorId: number,
) {
  const wasPresent = isPresent(memberOf(sim, chat, userId));
  changeMember(
    sim,
    chat,
    { userId, status: "kicked", isAnonymous: false, isMember: false, untilDate },
    { actorId },
  );
  const user = userObject(sim, userId);
  if (wasPresent && user) postServiceMessage(sim, chat, actorId, { left_chat_member: user });
}

/** Lifts a ban. Without `onlyIfBanned` a present member is removed, as Telegram's unbanChatMember does. */
export function unbanMember(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  actorId: number,
  onlyIfBanned: boolean,
) {
  const current = memberOf(sim, chat, userId);
  if (current?.status === "kicked") {
    changeMember(sim, chat, leftMembership(userId), { actorId });
    return;
  }
  if (onlyIfBanned || !isPresent(current) || current?.status === "creator") return;
  changeMember(sim, chat, leftMembership(userId), { actorId });
  const user = userObject(sim, userId);
  if (user) postServiceMessage(sim, chat, actorId, { left_chat_member: user });
}

export function restrictMember(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  permissions: Permissions,
  untilDate: number,
  actorId: number,
) {
  const current = memberOf(sim, chat, userId);
  const present = isPresent(current);
  const liftsEverything = Object.values(permissions).every(Boolean);
  let next: Membership;
  if (liftsEverything) {
    next = present
      ? { userId, status: "member", isAnonymous: false, isMember: true, untilDate: 0 }
      : leftMembership(userId);
  } else {
    next = {
      userId,
      status: "restricted",
      isAnonymous: false,
      isMember: present,
      permissions,
      untilDate,
    };
  }
  changeMember(sim, chat, next, { actorId });
}

export interface Promotion {
  rights: AdminRights;
  isAnonymous: boolean;
  customTitle?: string;
}

/** Promotes, edits or (with no rights at all) demotes an administrator. */
export function promoteMember(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  promotion: Promotion,
  actorId: number,
) {
  const current = memberOf(sim, chat, userId);
  const anyRight = Object.values(promotion.rights).some(Boolean) || promotion.isAnonymous;
  let next: Membership;
  if (!anyRight) {
    if (current?.status !== "administrator") return;
    next = { userId, status: "member", isAnonymous: false, isMember: true, untilDate: 0 };
  } else {
    const title = promotion.customTitle ?? current?.customTitle;
    next = {
      userId,
      status: "administrator",
      isAnonymous: promotion.isAnonymous,
      rights: promotion.rights,
      promotedBy: current?.status === "administrator" ? (current.promotedBy ?? actorId) : actorId,
      isMember: true,
      untilDate: 0,
      ...(title ? { customTitle: title } : {}),
    };
  }
  const wasPresent = isPresent(current);
  changeMember(sim, chat, next, { actorId });
  const user = userObject(sim, userId);
  if (!wasPresent && user) postServiceMessage(sim, chat, actorId, { new_chat_members: [user] });
}

export function createJoinRequest(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  options: { bio?: string; inviteLink?: string },
) {
  const user = userObject(sim, userId);
  if (!user) throw new ControlError(404, `user ${userId} not found`);
  if (isPresent(memberOf(sim, chat, userId))) throw controlInvalid("USER_ALREADY_PARTICIPANT");
  const link = options.inviteLink ? findLink(chat, options.inviteLink) : undefined;
  if (options.inviteLink && !link) throw controlInvalid("INVITE_HASH_INVALID");
  const request = {
    userId,
    date: sim.clock.now(),
    ...(options.bio ? { bio: options.bio } : {}),
    ...(link ? { inviteLink: link.link } : {}),
  };
  chat.joinRequests.set(userId, request);
  for (const bot of sim.world.bots.values()) {
    const m = chat.members.get(bot.user.id);
    const canInvite =
      m?.status === "creator" || (m?.status === "administrator" && m.rights?.can_invite_users);
    if (!canInvite) continue;
    // Telegram lets a bot that receives a join request write to the user (via user_chat_id).
    bot.talkedTo.add(userId);
    deliver(sim, bot, "chat_join_request", {
      chat: chatObject(sim, chat),
      from: user,
      user_chat_id: userId,
      date: request.date,
      ...(request.bio ? { bio: request.bio } : {}),
      ...(link ? { invite_link: inviteLinkObject(sim, chat, link, bot.user.id) } : {}),
    });
  }
}

/**
 * Turns a basic group into a supergroup: a new chat with a `-100…` id takes
 * over the members, the old group answers every call with the migration
 * error, and each side gets its migrate service message.
 */
export function upgradeToSupergroup(sim: Simulator, chat: ChatState, actorId: number): ChatState {
  if (chat.type !== "group") throw controlInvalid("only basic groups can be upgraded");
  if (chat.migratedTo !== undefined) throw controlInvalid("this group was already upgraded");
  const id = sim.ids.supergroup();
  const next: ChatState = {
    id,
    type: "supergroup",
    ...(chat.title ? { title: chat.title } : {}),
    ...(chat.description ? { description: chat.description } : {}),
    ...(chat.photo ? { photo: chat.photo } : {}),
    permissions: { ...chat.permissions },
    members: new Map([...chat.members].map(([k, m]) => [k, { ...m }])),
    messages: new Map(),
    nextMessageId: 1,
    pinned: [],
    inviteLinks: new Map(),
    joinRequests: new Map(),
    bannedSenderChats: new Set(),
    ...noForum(),
    migratedFrom: chat.id,
  };
  sim.world.chats.set(id, next);
  postServiceMessage(sim, chat, actorId, { migrate_to_chat_id: id });
  chat.migratedTo = id;
  postServiceMessage(sim, next, actorId, { migrate_from_chat_id: chat.id });
  return next;
}
