/**
 * People and bots: create and rename users, give them profile photos, have
 * them stop or restart a bot; create bots and switch their privacy mode; and
 * look at a bot from the outside (whether a long poll is open, what is queued
 * for it) without consuming anything.
 */
import { botSnapshot } from "../../control/snapshot.ts";
import { storeFile } from "../../files.ts";
import type { Simulator } from "../../simulator.ts";
import {
  createBot,
  createUser,
  requireBot,
  requireUser,
  updateUser,
} from "../../world/accounts.ts";
import { setBlocked } from "../../world/dialogs.ts";
import { integerParam, pathParams } from "./request.ts";
import type { ControlRoute } from "./route.ts";

export function registerAccountRoutes(
  route: ControlRoute,
  sim: () => Simulator,
  onNewBots: (tokens: string[]) => void,
) {
  route("GET", "/sim/users", () => [...sim().world.users.values()].map((u) => u.user));
  route("POST", "/sim/users", (_, body) => createUser(sim(), body as never).user);
  route("PATCH", "/sim/users/:id", (request, body) =>
    updateUser(sim(), integerParam(pathParams(request).id, "id"), body),
  );
  route("POST", "/sim/users/:id/block", (request, body) => {
    setBlocked(
      sim(),
      requireBot(sim(), body.bot as string | undefined),
      integerParam(pathParams(request).id, "id"),
      true,
    );
  });
  route("POST", "/sim/users/:id/unblock", (request, body) => {
    setBlocked(
      sim(),
      requireBot(sim(), body.bot as string | undefined),
      integerParam(pathParams(request).id, "id"),
      false,
    );
  });
  route("POST", "/sim/users/:id/photos", (request, body) => {
    const user = requireUser(sim(), integerParam(pathParams(request).id, "id"));
    const data =
      typeof body.photo === "string" ? Buffer.from(body.photo, "base64") : Buffer.from("profile");
    user.profilePhotos.unshift(storeFile(sim().files, "profile_photo", data));
    return { total_count: user.profilePhotos.length };
  });

  route("GET", "/sim/bots", () => [...sim().world.bots.values()].map(botSnapshot));
  route("POST", "/sim/bots", (_, body) => {
    const bot = createBot(sim(), body as never);
    onNewBots([bot.token]);
    return { token: bot.token, user: bot.user };
  });
  route("GET", "/sim/bots/:ref", (request) =>
    botSnapshot(requireBot(sim(), pathParams(request).ref)),
  );
  route(
    "GET",
    "/sim/bots/:ref/updates",
    (request) => requireBot(sim(), pathParams(request).ref).updates.items,
  );
  route("POST", "/sim/privacy", (_, body) => {
    const bot = requireBot(sim(), body.bot as string | undefined);
    bot.privacy = body.enabled !== false;
    return botSnapshot(bot);
  });
}
