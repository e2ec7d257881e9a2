import { Bot } from "grammy";
import { Redis } from "ioredis";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWED_UPDATES } from "../../src/bot/create.ts";
import { ensureWebhook } from "../../src/bot/intake/register.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { intakeKeys } from "../../src/store/keys.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { freePort } from "../setup/redis-server.ts";

/**
 * Setting the webhook as a replica starts (src/bot/intake/register.ts): only
 * when Telegram's differs from what Warden wants, the secret included (known
 * by its fingerprint), and never dropping what Telegram still holds.
 */

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("setting the webhook", () => {
  it("sets it only when the URL, the update types or the secret differ, and never drops pending updates", async () => {
    const sim = await startSimulator({ rateLimits: false });
    cleanup.push(() => sim.close());
    const { token, user } = await sim.control.createBot({ username: "warden_bot" });
    const redis = new Redis(await freshRedisUrl());
    cleanup.push(() => redis.disconnect());
    const api = new Bot(token, { client: { apiRoot: sim.apiRoot } }).api;
    const logger = pino({ level: "silent" });
    // Nobody listens there: Telegram's deliveries fail and the update stays pending.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const want = {
      url: `${closed}/telegram/hook`,
      secret: "first-secret",
      allowedUpdates: ALLOWED_UPDATES,
      token,
    };
    // Telegram holds an update from before: it must survive every call below.
    const alice = await sim.control.createUser({ first_name: "Alice" });
    await sim.control.sendMessage(alice.id, { from_id: alice.id, text: "hallo" });
    expect(await sim.control.pendingUpdates(user.id)).toHaveLength(1);

    expect(await ensureWebhook(api, redis, want, logger)).toBe("set");
    // A second replica, or a restart, with the same settings leaves it alone.
    expect(await ensureWebhook(api, redis, want, logger)).toBe("unchanged");
    expect(await ensureWebhook(api, redis, want, logger)).toBe("unchanged");
    // The secret rotated: getWebhookInfo cannot tell, the fingerprint can.
    expect(await ensureWebhook(api, redis, { ...want, secret: "second-secret" }, logger)).toBe(
      "set",
    );
    // Someone changed the update types by hand.
    await api.setWebhook(want.url, { secret_token: "second-secret", allowed_updates: ["message"] });
    expect(await ensureWebhook(api, redis, { ...want, secret: "second-secret" }, logger)).toBe(
      "set",
    );
    // Another URL.
    const moved = { ...want, secret: "second-secret", url: `${closed}/other` };
    expect(await ensureWebhook(api, redis, moved, logger)).toBe("set");

    const calls = await sim.control.calls(0, { method: "setWebhook" });
    expect(calls.map((c) => c.params.drop_pending_updates)).not.toContain(true);
    const info = await api.getWebhookInfo();
    expect(info.url).toBe(moved.url);
    expect(new Set(info.allowed_updates)).toEqual(new Set(ALLOWED_UPDATES));
    const stored = await redis.hgetall(intakeKeys.webhook());
    expect(Object.values(stored).join(" ")).not.toContain("second-secret");
    expect(await sim.control.pendingUpdates(user.id)).toHaveLength(1);
  });
});
