/**
 * Who acts when the control API plays the owner's side of a chat (editing
 * it, promoting, banning, deleting): the person named by `by`, or the chat's
 * owner. Someone named by `by` must hold the right Telegram would require, so
 * a scenario cannot quietly do what that admin could not.
 */
import { controlForbidden, controlInvalid } from "../../errors.ts";
import type { AdminRights, ChatState } from "../../model.ts";
import type { Simulator } from "../../simulator.ts";
import { isAdmin } from "../../world/delivery.ts";
import { memberOf } from "../../world/members.ts";
import { integerParam } from "./request.ts";
import type { Body } from "./route.ts";

export function ownerOf(chat: ChatState): number {
  for (const m of chat.members.values()) if (m.status === "creator") return m.userId;
  throw controlInvalid("the chat has no owner");
}

/** `by` from the body, or the chat's owner, without checking any right. */
export function byOrOwner(chat: ChatState, body: Body): number {
  return body.by === undefined ? ownerOf(chat) : integerParam(body.by, "by");
}

/** The acting person for owner-side actions, refused unless they are the owner or an admin with `right`. */
export function actor(
  sim: Simulator,
  chat: ChatState,
  body: Body,
  right?: keyof AdminRights,
): number {
  const by = byOrOwner(chat, body);
  const m = memberOf(sim, chat, by);
  if (m?.status === "creator") return by;
  if (!isAdmin(m)) throw controlForbidden("only administrators can do that");
  if (right && !m?.rights?.[right]) throw controlForbidden(`the administrator lacks ${right}`);
  return by;
}
