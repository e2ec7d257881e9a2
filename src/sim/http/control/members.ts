/**
 * Membership as people change it: joining (by invite link, or added by
 * someone) and leaving, and what the owner, or an admin named by `by` who
 * holds the right, does to others: promote, edit or demote, ban, unban,
 * restrict. Bots in the chat hear of each change as they would on Telegram.
 */
import { givenPermissions } from "../../chat-permissions.ts";
import { chatSnapshot } from "../../control/snapshot.ts";
import { controlInvalid } from "../../errors.ts";
import { ADMIN_RIGHTS, type AdminRights, allRights } from "../../model.ts";
import type { Simulator } from "../../simulator.ts";
import { requireUser } from "../../world/accounts.ts";
import {
  banMember,
  joinChat,
  leaveChat,
  normalizeUntilDate,
  promoteMember,
  restrictMember,
  unbanMember,
} from "../../world/actions.ts";
import { isAdmin } from "../../world/delivery.ts";
import { memberOf } from "../../world/members.ts";
import { actor } from "./acting.ts";
import { integerParam, pathGroup, pathParams } from "./request.ts";
import type { ControlRoute } from "./route.ts";

/** `rights` of a promotion: "all", or the rights set to true (any right implies can_manage_chat). */
function readRights(value: unknown): { rights: AdminRights; isAnonymous: boolean } {
  if (value === "all") return { rights: allRights(true), isAnonymous: false };
  const given = (value ?? {}) as Record<string, unknown>;
  const rights = allRights(false);
  for (const r of ADMIN_RIGHTS) rights[r] = given[r] === true;
  if (ADMIN_RIGHTS.some((r) => rights[r])) rights.can_manage_chat = true;
  return { rights, isAnonymous: given.is_anonymous === true };
}

export function registerMemberRoutes(route: ControlRoute, sim: () => Simulator) {
  route("POST", "/sim/chats/:id/members", (request, body) => {
    const chat = pathGroup(sim(), request);
    const userId = integerParam(body.user_id, "user_id");
    joinChat(sim(), chat, userId, {
      ...(typeof body.invite_link === "string" ? { inviteLink: body.invite_link } : {}),
      ...(body.added_by !== undefined ? { addedBy: integerParam(body.added_by, "added_by") } : {}),
    });
    return {
      status: memberOf(sim(), chat, userId)?.status ?? "left",
      pending_join_request: chat.joinRequests.has(userId),
    };
  });
  route("DELETE", "/sim/chats/:id/members/:user_id", (request) => {
    leaveChat(
      sim(),
      pathGroup(sim(), request),
      integerParam(pathParams(request).user_id, "user_id"),
    );
  });

  route("POST", "/sim/chats/:id/admins", (request, body) => {
    const chat = pathGroup(sim(), request);
    const by = actor(sim(), chat, body, "can_promote_members");
    const userId = integerParam(body.user_id, "user_id");
    requireUser(sim(), userId);
    const current = memberOf(sim(), chat, userId);
    if (current?.status === "creator")
      throw controlInvalid("the owner can't be promoted or demoted");
    if (current?.status === "kicked") throw controlInvalid("USER_NOT_PARTICIPANT");
    const { rights, isAnonymous } = readRights(body.rights);
    promoteMember(
      sim(),
      chat,
      userId,
      {
        rights,
        isAnonymous: isAnonymous || body.is_anonymous === true,
        ...(typeof body.custom_title === "string" ? { customTitle: body.custom_title } : {}),
      },
      by,
    );
    return chatSnapshot(sim(), chat).members.find((m) => m.user?.id === userId);
  });

  route("POST", "/sim/chats/:id/ban", (request, body) => {
    const chat = pathGroup(sim(), request);
    const by = actor(sim(), chat, body, "can_restrict_members");
    const userId = integerParam(body.user_id, "user_id");
    requireUser(sim(), userId);
    if (memberOf(sim(), chat, userId)?.status === "creator")
      throw controlInvalid("can't remove chat owner");
    const until = normalizeUntilDate(sim(), body.until_date as number | undefined);
    banMember(sim(), chat, userId, until, by);
  });
  route("POST", "/sim/chats/:id/unban", (request, body) => {
    const chat = pathGroup(sim(), request);
    unbanMember(
      sim(),
      chat,
      integerParam(body.user_id, "user_id"),
      actor(sim(), chat, body, "can_restrict_members"),
      true,
    );
  });
  route("POST", "/sim/chats/:id/restrict", (request, body) => {
    const chat = pathGroup(sim(), request);
    const by = actor(sim(), chat, body, "can_restrict_members");
    const userId = integerParam(body.user_id, "user_id");
    if (isAdmin(memberOf(sim(), chat, userId)))
      throw controlInvalid("user is an administrator of the chat");
    restrictMember(
      sim(),
      chat,
      userId,
      givenPermissions(body.permissions),
      normalizeUntilDate(sim(), body.until_date as number | undefined),
      by,
    );
  });
}
