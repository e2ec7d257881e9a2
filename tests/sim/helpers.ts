/**
 * Shared set-up for the simulator tests: a running simulator (self-checking
 * every result against the spec) with a small cast, and a raw Bot API caller
 * that returns status and body so tests can assert on exact errors.
 */
import {
  type RunningSimulator,
  type StartOptions,
  startSimulator,
  type TgUser,
} from "../../src/sim/index.ts";

export interface ApiAnswer<T = unknown> {
  status: number;
  body: {
    ok: boolean;
    result?: T;
    error_code?: number;
    description?: string;
    parameters?: Record<string, number>;
  };
  headers: Headers;
}

export function apiCaller(apiRoot: string, token: string) {
  return async function api<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<ApiAnswer<T>> {
    const response = await fetch(`${apiRoot}/bot${token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    });
    return {
      status: response.status,
      body: (await response.json()) as ApiAnswer<T>["body"],
      headers: response.headers,
    };
  };
}

export interface Cast {
  sim: RunningSimulator;
  token: string;
  bot: TgUser;
  owner: TgUser;
  alice: TgUser;
  bob: TgUser;
  /** A supergroup owned by `owner` where alice and bob are members and the bot is a full admin. */
  group: number;
  api: ReturnType<typeof apiCaller>;
}

export async function startCast(options: StartOptions = {}): Promise<Cast> {
  const sim = await startSimulator({ selfCheck: true, rateLimits: false, ...options });
  const c = sim.control;
  const { token, user: bot } = await c.createBot({ username: "warden_bot", first_name: "Warden" });
  const owner = await c.createUser({
    first_name: "Johan",
    last_name: "de Boer",
    username: "johan_deals",
    language_code: "nl",
  });
  const alice = await c.createUser({
    first_name: "Alice",
    username: "alice_nl",
    language_code: "en",
  });
  const bob = await c.createUser({ first_name: "Bob", language_code: "nl" });
  const { id: group } = await c.createChat({
    type: "supergroup",
    title: "Vuurwerk Deals NL",
    owner_id: owner.id,
  });
  await c.join(group, alice.id);
  await c.join(group, bob.id);
  await c.promote(group, bot.id, "all");
  return { sim, token, bot, owner, alice, bob, group, api: apiCaller(sim.apiRoot, token) };
}

/** Polls `check` until it returns a value, for at most `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Drains the bot's queue through getUpdates and returns what was there. */
export async function drainUpdates(api: Cast["api"]): Promise<Record<string, unknown>[]> {
  const first = await api<Record<string, unknown>[]>("getUpdates", { timeout: 0 });
  const updates = first.body.result ?? [];
  const last = updates.at(-1) as { update_id: number } | undefined;
  if (last) await api("getUpdates", { offset: last.update_id + 1, timeout: 0 });
  return updates;
}
