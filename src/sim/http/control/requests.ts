/**
 * What people ask of a bot and wait for it to answer: a press on an inline
 * button (a callback query, whose answer tests then read back) and a request
 * to join a chat (which admin bots approve or decline).
 */
import { controlNotFound } from "../../errors.ts";
import type { Simulator } from "../../simulator.ts";
import { createJoinRequest } from "../../world/actions.ts";
import { type CallbackInput, pressButton } from "../../world/buttons.ts";
import { requireChat } from "../../world/chats.ts";
import { integerParam, pathParams } from "./request.ts";
import type { ControlRoute } from "./route.ts";

export function registerRequestRoutes(route: ControlRoute, sim: () => Simulator) {
  route("POST", "/sim/callback", (_, body) =>
    pressButton(sim(), {
      ...(body as unknown as CallbackInput),
      from_id: integerParam(body.from_id, "from_id"),
      chat_id: integerParam(body.chat_id, "chat_id"),
      message_id: integerParam(body.message_id, "message_id"),
    }),
  );
  route("GET", "/sim/callback/:id", (request) => {
    const id = pathParams(request).id ?? "";
    const query = sim().world.callbacks.get(id);
    if (!query) throw controlNotFound(`callback query ${id}`);
    return {
      callback_query_id: query.id,
      answered: query.answer !== undefined,
      ...(query.answer ? { answer: query.answer } : {}),
    };
  });

  route("POST", "/sim/join-requests", (_, body) => {
    const chat = requireChat(sim(), integerParam(body.chat_id, "chat_id"));
    createJoinRequest(sim(), chat, integerParam(body.user_id, "user_id"), {
      ...(typeof body.bio === "string" ? { bio: body.bio } : {}),
      ...(typeof body.invite_link === "string" ? { inviteLink: body.invite_link } : {}),
    });
  });
}
