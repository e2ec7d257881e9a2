/**
 * Whole worlds: load one from YAML text or JSON (replacing the current world
 * unless `reset` is false), or reset to an empty one. A world of the wrong
 * shape is refused before anything is replaced; one that fails only while it
 * is built (an unknown name, a username already taken) leaves it half built.
 */
import { resetSimulator, type Simulator } from "../../simulator.ts";
import { applyWorld, loadWorld } from "../../world/load.ts";
import type { ControlRoute } from "./route.ts";

export function registerWorldRoutes(
  route: ControlRoute,
  sim: () => Simulator,
  onNewBots: (tokens: string[]) => void,
) {
  route("POST", "/sim/world", (request, body) => {
    const raw = request.body;
    const source = typeof raw === "string" ? raw : typeof body.yaml === "string" ? body.yaml : body;
    const world = loadWorld(source);
    if (body.reset !== false) resetSimulator(sim());
    const loaded = applyWorld(sim(), world);
    onNewBots(loaded.bots.map((b) => b.token));
    return loaded;
  });
  route("POST", "/sim/reset", () => {
    resetSimulator(sim());
  });
}
