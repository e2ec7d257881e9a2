/**
 * Chats as their owner sees them: create a group, supergroup or channel,
 * read its full state (including what bots cannot see), change its title,
 * description or default permissions, and upgrade a basic group to a
 * supergroup.
 */
import { changedPermissions, type Permissions } from "../../chat-permissions.ts";
import { chatSnapshot } from "../../control/snapshot.ts";
import { controlInvalid } from "../../errors.ts";
import type { Simulator } from "../../simulator.ts";
import { upgradeToSupergroup } from "../../world/actions.ts";
import { createChat, type NewChat } from "../../world/chats.ts";
import { actor } from "./acting.ts";
import { integerParam, pathChat, pathGroup } from "./request.ts";
import type { ControlRoute } from "./route.ts";

export function registerChatRoutes(route: ControlRoute, sim: () => Simulator) {
  route("GET", "/sim/chats", () =>
    [...sim().world.chats.values()].map((c) => ({
      id: c.id,
      type: c.type,
      title: c.title,
      username: c.username,
    })),
  );
  route("POST", "/sim/chats", (_, body) => {
    const chat = createChat(sim(), {
      ...(body as unknown as NewChat),
      owner_id: integerParam(body.owner_id, "owner_id"),
    });
    return chatSnapshot(sim(), chat);
  });
  route("GET", "/sim/chats/:id", (request) => chatSnapshot(sim(), pathChat(sim(), request)));
  route("PATCH", "/sim/chats/:id", (request, body) => {
    const chat = pathGroup(sim(), request);
    actor(sim(), chat, body, "can_change_info");
    if (typeof body.title === "string" && body.title) chat.title = body.title;
    if (typeof body.description === "string") chat.description = body.description || undefined;
    if (body.permissions)
      chat.permissions = changedPermissions(
        chat.permissions,
        body.permissions as Partial<Permissions>,
      );
    if (typeof body.is_forum === "boolean") {
      if (chat.type !== "supergroup") throw controlInvalid("only supergroups can have topics");
      chat.isForum = body.is_forum;
    }
    return chatSnapshot(sim(), chat);
  });
  route("POST", "/sim/chats/:id/upgrade", (request, body) => {
    const chat = pathGroup(sim(), request);
    return chatSnapshot(sim(), upgradeToSupergroup(sim(), chat, actor(sim(), chat, body)));
  });
}
