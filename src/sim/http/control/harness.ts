/**
 * The harness around the simulated world, for tests and the rehearsal
 * report: a health check, the log of every Bot API call, the self-check's
 * findings, injected faults and Telegram's flood limits.
 */
import type { FaultSpec } from "../../limits/faults.ts";
import type { Simulator } from "../../simulator.ts";
import { integerParam, requiredField } from "./request.ts";
import type { ControlRoute } from "./route.ts";

export function registerHarnessRoutes(route: ControlRoute, sim: () => Simulator) {
  route("GET", "/sim/health", () => ({ status: "ok" }));

  route("GET", "/sim/calls", (request) => {
    const query = request.query as Record<string, string | undefined>;
    const since = query.since === undefined ? 0 : integerParam(query.since, "since");
    const limit = query.limit === undefined ? undefined : integerParam(query.limit, "limit");
    const calls = sim().calls.since(since, limit);
    const method = query.method?.toLowerCase();
    return method ? calls.filter((c) => c.method.toLowerCase() === method) : calls;
  });
  route("GET", "/sim/violations", () => sim().violations);

  route("GET", "/sim/faults", () => sim().faults.list());
  route("POST", "/sim/faults", (_, body) => {
    sim().faults.add({
      ...(body as unknown as FaultSpec),
      method: requiredField<string>(body, "method"),
    });
    return sim().faults.list();
  });
  route("DELETE", "/sim/faults", () => sim().faults.clear());
  route("POST", "/sim/rate-limits", (_, body) => {
    sim().limits.enabled = body.enabled !== false;
    if (body.reset === true) sim().limits.reset();
    return { enabled: sim().limits.enabled };
  });
}
