import { afterEach, describe, expect, it } from "vitest";
import { collectKeys, intakeKeys } from "../../src/store/keys.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import { runWarden } from "../helpers/cli.ts";
import { allKeys, undeclaredKeys } from "../helpers/keys.ts";
import {
  intakeLength,
  keptMessages,
  killStarted,
  type LiveStage,
  redisProxy,
  type StartedWarden,
  spawnStart,
  startLiveStage,
} from "../helpers/live.ts";
import { liveEnv } from "../helpers/redis-trust.ts";
import { eventually } from "../helpers/warden.ts";
import { freePort } from "../setup/redis-server.ts";

/**
 * `warden start` with BOT_MODE=webhook, as a child process, against the
 * simulator (which posts each update to Warden's webhook with the secret
 * token) and a real Redis.
 */

const SECRET = "hook-secret_0123456789";
const cleanup: Array<() => Promise<unknown>> = [];
let stage: LiveStage | undefined;
afterEach(async () => {
  killStarted();
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await stage?.close();
  stage = undefined;
});

async function webhookEnv(): Promise<Record<string, string> & { WEBHOOK_URL: string }> {
  const port = await freePort();
  return {
    BOT_MODE: "webhook",
    WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/hook`,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_HOST: "127.0.0.1",
    WEBHOOK_PORT: String(port),
  };
}

async function running(warden: StartedWarden): Promise<void> {
  await eventually(() => warden.logs().includes("Warden is running live"), 30_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}\n${warden.logs()}`);
    },
  );
}

/** Posts an update to the webhook as Telegram would. */
function deliver(url: string, update: unknown, secret = SECRET): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
    body: JSON.stringify(update),
  });
}

async function botSaid(s: LiveStage, chatId: number): Promise<string[]> {
  return (await s.sim.control.chat(chatId)).messages
    .filter((m) => m.sender_id === s.botUser.id && !m.is_service)
    .map((m) => (m.message as { text?: string }).text ?? "");
}

describe("warden start, BOT_MODE=webhook", { timeout: 120_000 }, () => {
  it("sets the webhook, keeps a member's message, answers a command, handles a replayed update once and ignores a chat of no case", async () => {
    const s = await startLiveStage();
    stage = s;
    const c = s.sim.control;
    const env = { ...s.env, ...(await webhookEnv()) };
    const warden = spawnStart(env);
    await running(warden);
    const info = await c.bot(s.botUser.id);
    expect(info).toMatchObject({ polling: false });
    const setCalls = await c.calls(0, { method: "setWebhook" });
    expect(setCalls).toHaveLength(1);
    expect(setCalls[0]?.params).toMatchObject({
      url: env.WEBHOOK_URL,
      secret_token: SECRET,
      allowed_updates: expect.arrayContaining(["message", "chat_member", "message_reaction"]),
    });
    expect(setCalls[0]?.params.drop_pending_updates).not.toBe(true);

    // A member writes; the operator asks for the status in the control room.
    await c.sendMessage(s.group, { from_id: s.alice.id, text: "Cobra 6 te koop" });
    await c.sendMessage(s.room, { from_id: s.operator.id, text: "/status" });
    await eventually(async () => (await keptMessages(s)).messages === 1, 20_000);
    const answers = await eventually(async () => {
      const said = (await botSaid(s, s.room)).filter((t) => t.startsWith("case op-fw"));
      return said.length > 0 ? said : undefined;
    }, 20_000);
    expect(answers).toHaveLength(1);
    expect(await c.calls(0, { method: "getUpdates" })).toEqual([]);

    // Telegram delivers an update twice (its 200 was lost): queued and handled once.
    const now = Math.floor(Date.now() / 1000);
    const again = {
      update_id: 900_000_001,
      message: {
        message_id: 90_001,
        date: now,
        chat: { id: s.group, type: "supergroup", title: "Vuurwerk Deals NL" },
        from: { id: s.bob.id, is_bot: false, first_name: "Bob", username: "bob_cobra" },
        text: "nog een keer",
      },
    };
    const command = {
      update_id: 900_000_002,
      message: {
        message_id: 90_002,
        date: now,
        chat: { id: s.room, type: "supergroup", title: "Control room" },
        from: { id: s.operator.id, is_bot: false, first_name: "Duty" },
        text: "/status",
        entities: [{ type: "bot_command", offset: 0, length: 7 }],
      },
    };
    // And one from a chat that belongs to no case: accepted, then ignored as in polling.
    const stray = {
      update_id: 900_000_003,
      message: {
        message_id: 5,
        date: now,
        chat: { id: -100_999_000, type: "supergroup", title: "Elsewhere" },
        from: { id: s.bob.id, is_bot: false, first_name: "Bob" },
        text: "hallo",
      },
    };
    const hook = env.WEBHOOK_URL;
    for (const update of [again, again, command, command, stray, stray])
      expect((await deliver(hook, update)).status).toBe(200);
    await eventually(
      async () => (await botSaid(s, s.room)).filter((t) => t.startsWith("case op-fw")).length === 2,
      20_000,
    );
    await eventually(async () => (await keptMessages(s)).messages === 2, 20_000);
    await eventually(async () => (await intakeLength(s.redis)) === 0, 20_000);

    expect(await warden.stop("SIGTERM", 25_000), warden.logs()).toBe(0);
    const kept = await keptMessages(s);
    expect(kept).toMatchObject({ messages: 2, counted: 2 });
    expect(kept.collected.get(900_000_001)).toBe(1);
    expect((await botSaid(s, s.room)).filter((t) => t.startsWith("case op-fw"))).toHaveLength(2);
    expect(await s.redis.zscore(intakeKeys.seen(), "900000003")).not.toBeNull();
    expect((await allKeys(s.redis)).filter((k) => k.includes("-100999000"))).toEqual([]);
    expect(await s.redis.hlen(collectKeys.messages(s.caseId, -100_999_000))).toBe(0);
    expect(await undeclaredKeys(s.redis)).toEqual([]);
    await expectLogVerifies(s.redis, s.caseId);
    expect(warden.logs()).not.toContain(SECRET);
    expect(warden.logs()).not.toContain(s.token);
  });

  it("answers 503 while Redis is gone and is not ready; nothing Telegram sent meanwhile is lost", async () => {
    const s = await startLiveStage();
    stage = s;
    const c = s.sim.control;
    const proxy = await redisProxy(s.redisUrl);
    cleanup.push(() => proxy.close());
    const env = { ...s.env, REDIS_URL: proxy.url, ...(await webhookEnv()) };
    const base = new URL(env.WEBHOOK_URL).origin;
    const warden = spawnStart(env);
    await running(warden);
    for (let i = 0; i < 5; i++)
      await c.sendMessage(s.group, { from_id: s.alice.id, text: `voor ${i}` });
    await eventually(async () => (await keptMessages(s)).messages === 5, 20_000);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    await proxy.cut();
    const refused = await deliver(env.WEBHOOK_URL, {
      update_id: 900_000_010,
      message: {
        message_id: 90_010,
        date: Math.floor(Date.now() / 1000),
        chat: { id: s.group, type: "supergroup", title: "Vuurwerk Deals NL" },
        from: { id: s.bob.id, is_bot: false, first_name: "Bob" },
        text: "tijdens",
      },
    });
    expect(refused.status).toBe(503);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, mode: "webhook", role: "consumer" });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Members write on; Telegram's deliveries fail and it tries again later.
    for (let i = 0; i < 5; i++)
      await c.sendMessage(s.group, { from_id: s.bob.id, text: `tijdens ${i}` });
    await eventually(
      async () => (await c.bot(s.botUser.id)).webhook?.last_error_message?.includes("503"),
      20_000,
    );

    await proxy.restore();
    await eventually(async () => (await keptMessages(s)).messages === 10, 30_000);
    await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000);
    expect(await warden.stop("SIGTERM", 25_000), warden.logs()).toBe(0);
    const kept = await keptMessages(s);
    expect(kept).toMatchObject({ messages: 10, counted: 10 });
    expect([...kept.collected.values()].every((n) => n === 1)).toBe(true);
    expect(await intakeLength(s.redis)).toBe(0);
    await expectLogVerifies(s.redis, s.caseId);
  });

  it("stops with one line and exit code 2 when Telegram refuses the webhook, leaving no lease behind", async () => {
    const s = await startLiveStage();
    stage = s;
    await s.sim.control.injectFault({
      method: "setWebhook",
      count: 1,
      error_code: 400,
      description: "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    });
    const env = { ...s.env, ...(await webhookEnv()) };
    const result = await runWarden(["start"], env);
    expect(result.stderr.trim().split("\n").at(-1)).toBe(
      "warden: Telegram refused the webhook (Bad Request: bad webhook: An HTTPS URL must be provided for webhook): check WEBHOOK_URL (https, on port 443, 80, 88 or 8443)",
    );
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(s.token);
    // No lease is left for another process to wait out.
    expect(await s.redis.hlen(intakeKeys.consumers())).toBe(0);
  });

  it("stops with one line and exit code 2 when Redis is not there at start", async () => {
    const env = await liveEnv(`redis://127.0.0.1:${await freePort()}/0`);
    const result = await runWarden(["start"], {
      ...env,
      ...(await webhookEnv()),
      REDIS_CONNECT_TIMEOUT: "1",
    });
    const lines = result.stderr.split("\n").filter((l) => l !== "");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^warden: .*Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
    expect(result.code).toBe(2);
  });
});
