/**
 * The control API under `/sim`: JSON over HTTP for tests, scenarios and the
 * rehearsal to play the people around the bot (create accounts and chats,
 * join, write, press buttons, promote and ban as the owner), to move the
 * clock, inject faults, and inspect everything. Each area registers its own
 * routes from `control/`; `control/route.ts` gives them one envelope,
 * `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":"…"}`.
 */
import type { FastifyInstance } from "fastify";
import type { Simulator } from "../simulator.ts";
import { registerAccountRoutes } from "./control/accounts.ts";
import { registerChatRoutes } from "./control/chats.ts";
import { registerClockRoutes } from "./control/clock.ts";
import { registerHarnessRoutes } from "./control/harness.ts";
import { registerMemberRoutes } from "./control/members.ts";
import { registerMessageRoutes } from "./control/messages.ts";
import { registerRequestRoutes } from "./control/requests.ts";
import { controlRouter } from "./control/route.ts";
import { registerTopicRoutes } from "./control/topics.ts";
import { registerWorldRoutes } from "./control/world.ts";

/** Registers every control route on `app`; `onNewBots` hears the tokens of bots created through it. */
export function registerControlRoutes(
  app: FastifyInstance,
  sim: () => Simulator,
  onNewBots: (tokens: string[]) => void,
) {
  const route = controlRouter(app);
  registerAccountRoutes(route, sim, onNewBots);
  registerChatRoutes(route, sim);
  registerMemberRoutes(route, sim);
  registerMessageRoutes(route, sim);
  registerTopicRoutes(route, sim);
  registerRequestRoutes(route, sim);
  registerClockRoutes(route, sim);
  registerHarnessRoutes(route, sim);
  registerWorldRoutes(route, sim, onNewBots);
}
