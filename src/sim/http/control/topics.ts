/**
 * Forum topics as people handle them: a member creates a topic (Telegram
 * lets them when they may manage topics, or the chat's permissions allow
 * it), and the owner, an admin named by `by` who may manage topics, or the
 * topic's creator renames, closes, reopens or deletes it; the General topic
 * (thread 1) is also hidden and shown. Bots hear of each change through its
 * service message, as on Telegram. Albums are posted here too: several
 * photos, videos or documents sent together.
 */
import { topicsSnapshot } from "../../control/snapshot.ts";
import { controlForbidden, controlInvalid } from "../../errors.ts";
import type { MemberAlbumInput } from "../../member-message-input.ts";
import type { ChatState, Membership } from "../../model.ts";
import type { Simulator } from "../../simulator.ts";
import { isPresent } from "../../world/delivery.ts";
import { postMemberAlbum } from "../../world/member-messages.ts";
import { memberOf } from "../../world/members.ts";
import {
  cleanTopicName,
  deleteTopic,
  editTopic,
  forumTopicObject,
  GENERAL_TOPIC_ID,
  liveTopic,
  managesTopics,
  memberCreatesTopic,
  setGeneralHidden,
  setTopicClosed,
} from "../../world/topics.ts";
import { byOrOwner } from "./acting.ts";
import { integerParam, pathGroup, pathParams } from "./request.ts";
import type { Body, ControlRoute } from "./route.ts";

function requireForum(chat: ChatState) {
  if (!chat.isForum) throw controlInvalid("the chat is not a forum");
}

/** The topic a route names (1: General), refused when it does not exist (any more). */
function pathTopicId(chat: ChatState, params: Record<string, string>): number {
  const id = integerParam(params.thread_id, "thread_id");
  if (id !== GENERAL_TOPIC_ID && !liveTopic(chat, id)) throw controlInvalid("TOPIC_ID_INVALID");
  return id;
}

/**
 * Who acts on a topic (`by`, or the owner): someone who manages topics, or
 * for a topic other than General its creator when `creatorMay`.
 */
function topicActor(
  sim: Simulator,
  chat: ChatState,
  body: Body,
  topicId: number,
  reason: string,
  allowed: (m: Membership | undefined) => boolean = managesTopics,
): number {
  const by = byOrOwner(chat, body);
  const m = memberOf(sim, chat, by);
  if (!isPresent(m)) throw controlForbidden("user is not a member of the chat");
  const creator = topicId !== GENERAL_TOPIC_ID && liveTopic(chat, topicId)?.creatorId === by;
  if (!allowed(m) && !creator) throw controlForbidden(reason);
  return by;
}

export function registerTopicRoutes(route: ControlRoute, sim: () => Simulator) {
  route("GET", "/sim/chats/:id/topics", (request) => topicsSnapshot(pathGroup(sim(), request)));

  route("POST", "/sim/chats/:id/topics", (request, body) => {
    const chat = pathGroup(sim(), request);
    const topic = memberCreatesTopic(sim(), chat, integerParam(body.from_id, "from_id"), {
      name: typeof body.name === "string" ? body.name : "",
      ...(body.icon_color !== undefined
        ? { iconColor: integerParam(body.icon_color, "icon_color") }
        : {}),
      ...(typeof body.icon_custom_emoji_id === "string"
        ? { iconCustomEmojiId: body.icon_custom_emoji_id }
        : {}),
    });
    return forumTopicObject(topic);
  });

  route("PATCH", "/sim/chats/:id/topics/:thread_id", (request, body) => {
    const chat = pathGroup(sim(), request);
    requireForum(chat);
    const id = pathTopicId(chat, pathParams(request));
    const by = topicActor(sim(), chat, body, id, "not enough rights to edit the topic");
    const name =
      typeof body.name === "string" && body.name !== "" ? cleanTopicName(body.name) : undefined;
    if (name === "") throw controlInvalid("name must be non-empty");
    const icon =
      typeof body.icon_custom_emoji_id === "string" ? body.icon_custom_emoji_id : undefined;
    if (id === GENERAL_TOPIC_ID && icon !== undefined) {
      throw controlInvalid("GENERAL_MODIFY_ICON_FORBIDDEN");
    }
    const patch = {
      ...(name !== undefined ? { name } : {}),
      ...(icon !== undefined ? { iconCustomEmojiId: icon } : {}),
    };
    if (Object.keys(patch).length > 0 && !editTopic(sim(), chat, id, by, patch)) {
      throw controlInvalid("TOPIC_NOT_MODIFIED");
    }
    return topicsSnapshot(chat);
  });

  for (const [action, closed] of [
    ["close", true],
    ["reopen", false],
  ] as const) {
    route("POST", `/sim/chats/:id/topics/:thread_id/${action}`, (request, body) => {
      const chat = pathGroup(sim(), request);
      requireForum(chat);
      const id = pathTopicId(chat, pathParams(request));
      const by = topicActor(sim(), chat, body, id, "not enough rights to close or open the topic");
      if (!setTopicClosed(sim(), chat, id, closed, by)) throw controlInvalid("TOPIC_NOT_MODIFIED");
      if (!closed && id === GENERAL_TOPIC_ID) setGeneralHidden(sim(), chat, false, by);
      return topicsSnapshot(chat);
    });
  }

  for (const [action, hidden] of [
    ["hide", true],
    ["unhide", false],
  ] as const) {
    route("POST", `/sim/chats/:id/topics/:thread_id/${action}`, (request, body) => {
      const chat = pathGroup(sim(), request);
      requireForum(chat);
      const id = pathTopicId(chat, pathParams(request));
      if (id !== GENERAL_TOPIC_ID) throw controlInvalid("only the General topic (1) can be hidden");
      const by = topicActor(sim(), chat, body, id, "not enough rights to close or open the topic");
      if (!setGeneralHidden(sim(), chat, hidden, by)) throw controlInvalid("TOPIC_NOT_MODIFIED");
      return topicsSnapshot(chat);
    });
  }

  route("DELETE", "/sim/chats/:id/topics/:thread_id", (request, body) => {
    const chat = pathGroup(sim(), request);
    requireForum(chat);
    const id = pathTopicId(chat, pathParams(request));
    const topic = liveTopic(chat, id);
    if (!topic) throw controlInvalid("the General topic can't be deleted");
    const by = topicActor(
      sim(),
      chat,
      body,
      id,
      "not enough rights to delete the topic",
      (m) =>
        m?.status === "creator" ||
        (m?.status === "administrator" && m.rights?.can_delete_messages === true),
    );
    deleteTopic(sim(), chat, topic, by);
    return topicsSnapshot(chat);
  });

  route("POST", "/sim/chats/:id/albums", (request, body) => {
    const chat = pathGroup(sim(), request);
    const input = {
      ...body,
      from_id: integerParam(body.from_id, "from_id"),
    } as unknown as MemberAlbumInput;
    return postMemberAlbum(sim(), chat, input).map((stored) => stored.message);
  });
}
