/**
 * The unmodified grammY bot against the simulator: long polling with
 * bot.start(), confirmation of updates, the 409 conflict, allowed_updates,
 * flood waits with auto-retry, being kicked, and webhooks.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, GrammyError, webhookCallback } from "grammy";
import type { Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Cast, drainUpdates, eventually, startCast } from "./helpers.ts";

let cast: Cast;
const running: Bot[] = [];

function newBot() {
  const bot = new Bot(cast.token, { client: { apiRoot: cast.sim.apiRoot } });
  bot.catch((error) => {
    throw error.error;
  });
  running.push(bot);
  return bot;
}

beforeEach(async () => {
  cast = await startCast();
  await drainUpdates(cast.api);
});
afterEach(async () => {
  for (const bot of running.splice(0)) if (bot.isRunning()) await bot.stop().catch(() => {});
  await cast.sim.close();
});

function say(text: string, from = cast.alice.id) {
  return cast.sim.control.sendMessage(cast.group, { from_id: from, text });
}

describe("long polling with bot.start()", () => {
  it("gives a bot stopped mid-batch the unconfirmed updates again", async () => {
    await say("een");
    await say("twee");
    await say("drie");
    const first = newBot();
    const seenByFirst: [number, string][] = [];
    let stopping: Promise<void> | undefined;
    first.on("message:text", (ctx) => {
      seenByFirst.push([ctx.update.update_id, ctx.message.text]);
      if (seenByFirst.length === 2) stopping = first.stop();
    });
    await first.start();
    await stopping;
    // grammY finished the batch it held, but only confirmed up to the update it stopped in.
    expect(seenByFirst.map(([, text]) => text)).toEqual(["een", "twee", "drie"]);

    const second = newBot();
    const seenBySecond: [number, string][] = [];
    second.on("message:text", async (ctx) => {
      seenBySecond.push([ctx.update.update_id, ctx.message.text]);
      await second.stop();
    });
    await second.start();
    expect(seenBySecond).toEqual([seenByFirst[2]]);
  });

  it("holds the long poll open and answers it with an update injected meanwhile", async () => {
    const bot = newBot();
    let handled!: (text: string) => void;
    const received = new Promise<string>((resolve) => {
      handled = resolve;
    });
    bot.on("message:text", (ctx) => handled(ctx.message.text));
    void bot.start({ timeout: 30 });
    await eventually(async () => (await cast.sim.control.bot(cast.bot.id)).polling);
    const injectedAt = Date.now();
    const message = await say("Wie heeft er nog Cobra's?");
    expect(await received).toBe("Wie heeft er nog Cobra's?");

    const polls = await cast.sim.control.calls(0, { method: "getUpdates" });
    const answering = polls.find((call) =>
      (call.result as Update[] | undefined)?.some(
        (u) => u.message?.message_id === message.message_id,
      ),
    );
    expect(answering?.params.timeout).toBe(30);
    // The request was already open when the message was injected, and it did not wait out its timeout.
    expect(answering?.received_at).toBeLessThanOrEqual(injectedAt);
    expect(answering?.answered_at).toBeGreaterThanOrEqual(injectedAt);
    expect((answering?.answered_at ?? 0) - (answering?.received_at ?? 0)).toBeLessThan(30_000);
  });

  it("ends the earlier poller with 409 when a second instance polls", async () => {
    const first = newBot();
    first.on("message", () => {});
    const firstRun = first.start({ timeout: 30 });
    await eventually(async () => (await cast.sim.control.bot(cast.bot.id)).polling);

    const second = newBot();
    let handled!: (text: string) => void;
    const received = new Promise<string>((resolve) => {
      handled = resolve;
    });
    second.on("message:text", (ctx) => handled(ctx.message.text));
    void second.start({ timeout: 30 });

    const error = await firstRun.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBe(409);
    expect((error as GrammyError).description).toBe(
      "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    );
    await say("nog steeds hier");
    expect(await received).toBe("nog steeds hier");
  });

  it("remembers allowed_updates when later calls omit them", async () => {
    const bot = newBot();
    const memberUpdates: number[] = [];
    let joined!: () => void;
    const sawJoin = new Promise<void>((resolve) => {
      joined = resolve;
    });
    bot.on("chat_member", (ctx) => {
      memberUpdates.push(ctx.chatMember.new_chat_member.user.id);
      joined();
    });
    bot.on("message", () => {});
    void bot.start({ timeout: 30, allowed_updates: ["message", "chat_member"] });
    await say("/start");
    await eventually(
      async () => (await cast.sim.control.calls(0, { method: "getUpdates" })).length >= 2,
    );
    await eventually(async () => (await cast.sim.control.bot(cast.bot.id)).polling);
    const dave = await cast.sim.control.createUser({ first_name: "Dave" });
    await cast.sim.control.join(cast.group, dave.id);
    await sawJoin;
    expect(memberUpdates).toEqual([dave.id]);
    const polls = await cast.sim.control.calls(0, { method: "getUpdates" });
    const delivering = polls.find((call) =>
      (call.result as Update[] | undefined)?.some((u) => u.chat_member !== undefined),
    );
    expect(delivering?.params.allowed_updates).toBeUndefined();
    const withFilter = polls.filter((call) => call.params.allowed_updates !== undefined);
    expect(withFilter.map((call) => call.params.allowed_updates)).toEqual([
      ["message", "chat_member"],
    ]);
  });
});

describe("errors a bot has to live with", () => {
  it("lets auto-retry wait out an injected 429", async () => {
    const bot = newBot();
    bot.api.config.use(autoRetry());
    await cast.sim.control.injectFault({
      method: "sendMessage",
      count: 1,
      error_code: 429,
      parameters: { retry_after: 1 },
    });
    const sent = await bot.api.sendMessage(cast.group, "Na de flood wait");
    expect(sent.text).toBe("Na de flood wait");
    const calls = await cast.sim.control.calls(0, { method: "sendMessage" });
    expect(calls.map((c) => c.ok)).toEqual([false, true]);
    expect(calls[0]).toMatchObject({
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
    expect((calls[1]?.received_at ?? 0) - (calls[0]?.answered_at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it("tells a bot it was kicked, and refuses its next message with 403", async () => {
    const bot = newBot();
    let kicked!: (status: string) => void;
    const statusSeen = new Promise<string>((resolve) => {
      kicked = resolve;
    });
    bot.on("my_chat_member", (ctx) => kicked(ctx.myChatMember.new_chat_member.status));
    void bot.start({ timeout: 30 });
    await eventually(async () => (await cast.sim.control.bot(cast.bot.id)).polling);
    await cast.sim.control.ban(cast.group, cast.bot.id);
    expect(await statusSeen).toBe("kicked");
    const error = await bot.api.sendMessage(cast.group, "hallo?").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBe(403);
    expect((error as GrammyError).description).toBe(
      "Forbidden: bot was kicked from the supergroup chat",
    );
  });
});

describe("webhooks", () => {
  let server: Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  it("delivers updates with the secret token header to grammY's webhook handler", async () => {
    const bot = newBot();
    await bot.init();
    const texts: string[] = [];
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    bot.on("message:text", async (ctx) => {
      texts.push(ctx.message.text);
      if (texts.length === 2) delivered();
    });
    const handle = webhookCallback(bot, "http", { secretToken: "geheim_123" });
    const headers: (string | undefined)[] = [];
    let failFirst = true;
    server = createServer((req, res) => {
      headers.push(req.headers["x-telegram-bot-api-secret-token"] as string | undefined);
      if (failFirst) {
        failFirst = false;
        res.writeHead(500).end();
        return;
      }
      void handle(req, res);
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    expect((await cast.api("setWebhook", { url, secret_token: "geheim_123" })).body.ok).toBe(true);
    const conflict = await cast.api("getUpdates", {});
    expect(conflict.body).toEqual({
      ok: false,
      error_code: 409,
      description:
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    });
    await say("via webhook 1");
    await say("via webhook 2");
    await done;
    expect(texts).toEqual(["via webhook 1", "via webhook 2"]);
    expect(headers.every((h) => h === "geheim_123")).toBe(true);
    const info = await cast.api<Record<string, unknown>>("getWebhookInfo");
    expect(info.body.result).toMatchObject({
      url,
      pending_update_count: 0,
      last_error_message: "Wrong response from the webhook: 500 Internal Server Error",
    });
    expect((await cast.api("deleteWebhook")).body.ok).toBe(true);
    expect((await cast.api("getUpdates", {})).body.ok).toBe(true);
  });
});
