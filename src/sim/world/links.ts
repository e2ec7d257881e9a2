/**
 * Invite links: the chat's primary link and additional links with a name,
 * an expiry, a member limit or a join-request requirement. Telegram counts
 * joins per link; the Bot API does not show that count, the control API does.
 */
import { randomString } from "../ids.ts";
import type { ChatState, InviteLinkState } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";

export interface NewLink {
  name?: string;
  expire_date?: number;
  member_limit?: number;
  creates_join_request?: boolean;
}

export function createInviteLink(
  sim: Simulator,
  chat: ChatState,
  creatorId: number,
  options: NewLink,
  isPrimary = false,
): InviteLinkState {
  const link: InviteLinkState = {
    link: `https://t.me/+${randomString(16)}`,
    creatorId,
    createsJoinRequest: options.creates_join_request ?? false,
    isPrimary,
    isRevoked: false,
    usage: 0,
    createdAt: sim.clock.now(),
    ...(options.name ? { name: options.name } : {}),
    ...(options.expire_date ? { expireDate: options.expire_date } : {}),
    ...(options.member_limit ? { memberLimit: options.member_limit } : {}),
  };
  chat.inviteLinks.set(link.link, link);
  return link;
}

/** Replaces the primary link (revoking the old one), as exportChatInviteLink does. */
export function replacePrimaryLink(sim: Simulator, chat: ChatState, creatorId: number) {
  for (const link of chat.inviteLinks.values()) {
    if (link.isPrimary && !link.isRevoked) {
      link.isRevoked = true;
      link.isPrimary = false;
    }
  }
  return createInviteLink(sim, chat, creatorId, {}, true);
}

export function primaryLink(chat: ChatState): InviteLinkState | undefined {
  for (const link of chat.inviteLinks.values()) if (link.isPrimary && !link.isRevoked) return link;
  return undefined;
}

/** Why a link can't be used right now, or undefined when it can. */
export function linkUnusable(sim: Simulator, link: InviteLinkState): string | undefined {
  if (link.isRevoked) return "invite link is revoked";
  if (link.expireDate !== undefined && link.expireDate <= sim.clock.now())
    return "invite link expired";
  if (link.memberLimit !== undefined && link.usage >= link.memberLimit) {
    return "invite link member limit reached";
  }
  return undefined;
}

/**
 * The ChatInviteLink object. Bots see links created by other admins with the
 * secret part cut short, as Telegram shows them.
 */
export function inviteLinkObject(
  sim: Simulator,
  chat: ChatState,
  link: InviteLinkState,
  viewerId?: number,
) {
  const hidden = viewerId !== undefined && viewerId !== link.creatorId;
  const creator = userObject(sim, link.creatorId);
  let pending = 0;
  for (const request of chat.joinRequests.values()) if (request.inviteLink === link.link) pending++;
  return {
    invite_link: hidden ? `${link.link.slice(0, -6)}...` : link.link,
    creator: creator ?? { id: link.creatorId, is_bot: false, first_name: "Deleted Account" },
    creates_join_request: link.createsJoinRequest,
    is_primary: link.isPrimary,
    is_revoked: link.isRevoked,
    ...(link.name ? { name: link.name } : {}),
    ...(link.expireDate ? { expire_date: link.expireDate } : {}),
    ...(link.memberLimit ? { member_limit: link.memberLimit } : {}),
    ...(link.createsJoinRequest ? { pending_join_request_count: pending } : {}),
  };
}
