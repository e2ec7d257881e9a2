/**
 * Messages as people write them: post in a group or channel, write to a bot
 * in private (`/sim/chats/<user id>/messages`), edit, delete and react.
 * Telegram's refusals (a banned member, a muted one, a channel that is not
 * theirs) come back as 403 with Telegram's reason.
 */
import type { MemberMessageInput } from "../../member-message-input.ts";
import type { Simulator } from "../../simulator.ts";
import { requireChat } from "../../world/chats.ts";
import { postPrivateMessage } from "../../world/dialogs.ts";
import {
  deleteMemberMessage,
  editMemberMessage,
  postMemberMessage,
  react,
} from "../../world/member-messages.ts";
import { byOrOwner } from "./acting.ts";
import { integerParam, pathChat, pathGroup, pathParams } from "./request.ts";
import type { ControlRoute } from "./route.ts";

/** `emoji` of a reaction: a list, one emoji, or nothing (which removes the reaction). */
function readEmoji(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === "string" ? [value] : [];
}

export function registerMessageRoutes(route: ControlRoute, sim: () => Simulator) {
  route("POST", "/sim/chats/:id/messages", (request, body) => {
    const id = integerParam(pathParams(request).id, "chat id");
    const input = { ...body, from_id: integerParam(body.from_id, "from_id") } as MemberMessageInput;
    if (id > 0) return postPrivateMessage(sim(), id, input).message;
    return postMemberMessage(sim(), requireChat(sim(), id), input).message;
  });
  route("POST", "/sim/chats/:id/messages/:message_id/edit", (request, body) =>
    editMemberMessage(
      sim(),
      pathChat(sim(), request, body),
      integerParam(pathParams(request).message_id, "message_id"),
      body,
    ),
  );
  route("DELETE", "/sim/chats/:id/messages/:message_id", (request, body) => {
    const chat = pathChat(sim(), request, body);
    const by = byOrOwner(chat, body);
    deleteMemberMessage(
      sim(),
      chat,
      integerParam(pathParams(request).message_id, "message_id"),
      by,
    );
  });
  route("POST", "/sim/chats/:id/messages/:message_id/react", (request, body) =>
    react(
      sim(),
      pathGroup(sim(), request),
      integerParam(pathParams(request).message_id, "message_id"),
      integerParam(body.user_id, "user_id"),
      readEmoji(body.emoji),
    ),
  );
}
