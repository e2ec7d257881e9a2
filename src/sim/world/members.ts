/**
 * Memberships and their changes. Every change goes through `changeMember`,
 * which sends `my_chat_member` to a bot whose own status changed and
 * `chat_member` to the admin bots that asked for it, the way Telegram does.
 */
import { allPermissions } from "../chat-permissions.ts";
import {
  ADMIN_RIGHTS,
  type AdminRights,
  CHANNEL_ONLY_RIGHTS,
  type ChatState,
  GROUP_ONLY_RIGHTS,
  type InviteLinkState,
  type MemberStatus,
  type Membership,
} from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { deliver, isAdmin } from "./delivery.ts";
import { inviteLinkObject } from "./links.ts";

export function leftMembership(userId: number): Membership {
  return { userId, status: "left", isAnonymous: false, isMember: false, untilDate: 0 };
}

/**
 * The current membership, after lifting restrictions and bans whose
 * until_date has passed on the simulated clock.
 */
export function memberOf(sim: Simulator, chat: ChatState, userId: number): Membership | undefined {
  const m = chat.members.get(userId);
  if (!m || m.untilDate === 0 || m.untilDate > sim.clock.now()) return m;
  if (m.status === "kicked") {
    const lifted = leftMembership(userId);
    chat.members.set(userId, lifted);
    return lifted;
  }
  if (m.status === "restricted") {
    const lifted: Membership = m.isMember
      ? { userId, status: "member", isAnonymous: false, isMember: true, untilDate: 0 }
      : leftMembership(userId);
    chat.members.set(userId, lifted);
    return lifted;
  }
  return m;
}

export function statusOf(sim: Simulator, chat: ChatState, userId: number): MemberStatus {
  return memberOf(sim, chat, userId)?.status ?? "left";
}

/** Administrator rights that exist in this kind of chat. */
export function rightsForChat(chat: ChatState, rights: AdminRights): Partial<AdminRights> {
  const out: Partial<AdminRights> = {};
  for (const right of ADMIN_RIGHTS) {
    if (chat.type === "channel" && GROUP_ONLY_RIGHTS.includes(right)) continue;
    if (chat.type !== "channel" && CHANNEL_ONLY_RIGHTS.includes(right)) continue;
    out[right] = rights[right] ?? false;
  }
  return out;
}

/** The ChatMember object for `userId` as the bot `viewerId` sees it. */
export function memberObject(
  sim: Simulator,
  chat: ChatState,
  m: Membership,
  viewerId?: number,
): Record<string, unknown> {
  const user = userObject(sim, m.userId) ?? {
    id: m.userId,
    is_bot: false,
    first_name: "Deleted Account",
  };
  switch (m.status) {
    case "creator":
      return {
        status: "creator",
        user,
        is_anonymous: m.isAnonymous,
        ...(m.customTitle ? { custom_title: m.customTitle } : {}),
      };
    case "administrator": {
      const viewer = viewerId === undefined ? undefined : chat.members.get(viewerId);
      const canBeEdited =
        viewerId !== undefined &&
        viewerId !== m.userId &&
        (viewer?.status === "creator" || m.promotedBy === viewerId);
      return {
        status: "administrator",
        user,
        can_be_edited: canBeEdited,
        is_anonymous: m.isAnonymous,
        ...rightsForChat(chat, m.rights ?? ({} as AdminRights)),
        ...(m.customTitle ? { custom_title: m.customTitle } : {}),
      };
    }
    case "member":
      return { status: "member", user };
    case "restricted":
      return {
        status: "restricted",
        user,
        is_member: m.isMember,
        ...(m.permissions ?? allPermissions(false)),
        until_date: m.untilDate,
      };
    case "left":
      return { status: "left", user };
    case "kicked":
      return { status: "kicked", user, until_date: m.untilDate };
  }
}

export interface MemberChange {
  /** Who made the change (the user themself for joins and leaves). */
  actorId: number;
  inviteLink?: InviteLinkState;
  viaJoinRequest?: boolean;
}

/** Stores `next` and sends the membership updates Telegram would send. */
export function changeMember(
  sim: Simulator,
  chat: ChatState,
  next: Membership,
  change: MemberChange,
) {
  const previous = memberOf(sim, chat, next.userId) ?? leftMembership(next.userId);
  chat.members.set(next.userId, next);
  const actor = userObject(sim, change.actorId);
  if (!actor) return;
  const base = { chat: chatObject(sim, chat), from: actor, date: sim.clock.now() };

  const subjectBot = sim.world.bots.get(next.userId);
  if (subjectBot) {
    const oldView = memberObject(sim, chat, previous, next.userId);
    const newView = memberObject(sim, chat, next, next.userId);
    if (JSON.stringify(oldView) !== JSON.stringify(newView)) {
      deliver(sim, subjectBot, "my_chat_member", {
        ...base,
        old_chat_member: oldView,
        new_chat_member: newView,
      });
    }
  }
  for (const bot of sim.world.bots.values()) {
    if (bot.user.id === next.userId || !isAdmin(chat.members.get(bot.user.id))) continue;
    const oldView = memberObject(sim, chat, previous, bot.user.id);
    const newView = memberObject(sim, chat, next, bot.user.id);
    if (JSON.stringify(oldView) === JSON.stringify(newView)) continue;
    deliver(sim, bot, "chat_member", {
      ...base,
      old_chat_member: oldView,
      new_chat_member: newView,
      ...(change.inviteLink
        ? { invite_link: inviteLinkObject(sim, chat, change.inviteLink, bot.user.id) }
        : {}),
      ...(change.viaJoinRequest ? { via_join_request: true } : {}),
    });
  }
}
