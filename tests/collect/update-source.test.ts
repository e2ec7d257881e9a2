import { Bot } from "grammy";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createSecuredSource, runSecured } from "../../src/bot/update-source.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { eventually } from "../helpers/warden.ts";

/**
 * Warden's update source on its own, against the simulator: an update is
 * confirmed to Telegram (a later poll's offset passes it) only once it is
 * recorded; one that fails before it is recorded is handled again.
 */

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setUp() {
  const sim = await startSimulator({ rateLimits: false });
  cleanup.push(() => sim.close());
  const { token, user: botUser } = await sim.control.createBot({ username: "warden_bot" });
  const alice = await sim.control.createUser({ first_name: "Alice" });
  const bot = new Bot(token, { client: { apiRoot: sim.apiRoot } });
  await bot.init();
  const source = createSecuredSource({
    api: bot.api,
    allowedUpdates: ["message"],
    timeoutSeconds: 1,
    logger: pino({ level: "silent" }),
  });
  const say = async (text: string) =>
    sim.control.sendMessage(alice.id, { from_id: alice.id, text });
  const polls = async () =>
    (await sim.control.calls(0, { method: "getUpdates" })).map((c) => ({
      offset: Number(c.params.offset ?? 0),
      ids: ((c.result as { update_id: number }[] | undefined) ?? []).map((u) => u.update_id),
    }));
  return { sim, bot, source, botUser, say, polls };
}

describe("the secured update source", () => {
  it("never confirms an update before it is recorded, and confirms it once it is", async () => {
    const { sim, bot, source, botUser, say, polls } = await setUp();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const recorded: string[] = [];
    bot.on("message:text", async (ctx) => {
      // "slow" stands for an update whose persisting waits (Redis down): not recorded until released.
      if (ctx.message.text === "slow") await held;
      recorded.push(ctx.message.text);
      source.recorded(ctx.update.update_id);
    });
    const runner = runSecured(bot, source, pino({ level: "silent" }));
    cleanup.push(() => runner.isRunning() && runner.stop());

    await say("slow");
    const slowId = (await sim.control.pendingUpdates(botUser.id))[0]?.update_id as number;
    for (const text of ["een", "twee", "drie"]) await say(text);
    await eventually(() => recorded.length === 3);
    // The later updates are handled and recorded, yet no poll confirmed the held one.
    expect((await polls()).every((p) => p.offset <= slowId)).toBe(true);
    expect((await sim.control.bot(botUser.id)).pending_update_count).toBe(4);
    // Held updates come back with every poll but are handled once.
    expect(recorded).toEqual(["een", "twee", "drie"]);

    release();
    await eventually(async () => (await sim.control.bot(botUser.id)).pending_update_count === 0);
    expect(recorded).toEqual(["een", "twee", "drie", "slow"]);
    expect(source.unsecured()).toBe(0);
  });

  it("handles an update again when its handling failed before it was recorded", async () => {
    const { sim, bot, source, botUser, say } = await setUp();
    let failures = 1;
    const recorded: string[] = [];
    bot.use(async (ctx, next) => {
      // A middleware in front of the recorder meets an outage once.
      if (ctx.message?.text === "wankel" && failures-- > 0) throw new Error("Redis is down");
      await next();
    });
    bot.on("message:text", (ctx) => {
      recorded.push(ctx.message.text);
      source.recorded(ctx.update.update_id);
    });
    bot.catch(() => undefined);
    const runner = runSecured(bot, source, pino({ level: "silent" }));
    cleanup.push(() => runner.isRunning() && runner.stop());

    await say("wankel");
    await say("vast");
    await eventually(async () => (await sim.control.bot(botUser.id)).pending_update_count === 0);
    expect(recorded.sort()).toEqual(["vast", "wankel"]);
  });
});
