/**
 * The simulated clock: read it, move it (which plays the timeline messages
 * that fall due), and list the timeline still to come. Only these routes
 * move simulated time; nothing else does.
 */
import { advanceClock } from "../../control/clock.ts";
import type { Simulator } from "../../simulator.ts";
import type { ControlRoute } from "./route.ts";

export function registerClockRoutes(route: ControlRoute, sim: () => Simulator) {
  route("GET", "/sim/clock", () => ({
    now: sim().clock.now(),
    iso: new Date(sim().clock.nowMs()).toISOString(),
  }));
  route("POST", "/sim/clock", (_, body) => {
    const result = advanceClock(sim(), body.advance_seconds);
    return { ...result, iso: new Date(sim().clock.nowMs()).toISOString() };
  });
  route("GET", "/sim/timeline", () => sim().timeline);
}
