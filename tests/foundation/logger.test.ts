import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BotError } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBot } from "../../src/bot/bot.ts";
import { secretsOf } from "../../src/cli/config.ts";
import { createLogger, scrubSecrets } from "../../src/cli/logger.ts";
import { connectRedis } from "../../src/store/redis.ts";

const TOKEN = "987654321:AAF-secretSECRETsecretSECRETsecret12";
const REDIS_PASSWORD = "r3dis-Pa55word";
const WEBHOOK_SECRET = "webhook-secret-value";

function capture() {
  const lines: string[] = [];
  const logger = createLogger({
    level: "trace",
    secrets: secretsOf({
      BOT_TOKEN: TOKEN,
      REDIS_URL: `redis://warden:${REDIS_PASSWORD}@127.0.0.1:1`,
      WEBHOOK_SECRET,
    }),
    destination: { write: (line: string) => lines.push(line) },
  });
  return { logger, text: () => lines.join("") };
}

let server: Server;
let apiRoot: string;

beforeAll(async () => {
  // A Bot API stand-in that fails every call, echoing the URL it was called with
  // (as some proxies and error pages do), so the token lands in the error text.
  server = createServer((req, res) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ok: false,
        error_code: 400,
        description: `Bad Request: internal error at ${req.url}`,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("logging never leaks secrets", () => {
  it("keeps the bot token out of a failed API call's log lines, wherever the error put it", async () => {
    const { logger, text } = capture();
    const bot = createBot({ token: TOKEN, apiRoot, logger });
    const err = await bot.api.getMe().catch((e: unknown) => e);
    logger.error({ err }, "getMe failed");
    expect(String((err as Error).message)).toContain("internal error at /bot");

    // A network failure: the HTTP client's error message carries the whole URL.
    const unreachable = createBot({ token: TOKEN, apiRoot: "http://127.0.0.1:1", logger });
    const netErr = await unreachable.api.getMe().catch((e: unknown) => e);
    logger.error({ err: netErr }, "getMe failed");
    logger.warn(`calling ${apiRoot}/bot${TOKEN}/sendMessage and ${encodeURIComponent(TOKEN)}`);

    // An update whose handler fails goes through the bot's error handler.
    bot.on("message", (ctx) => ctx.reply("hi"));
    await bot.init().catch(() => undefined);
    bot.botInfo = {
      id: 987654321,
      is_bot: true,
      first_name: "Warden",
      username: "warden_bot",
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
    } as never;
    // As the runner does: a failing update is handed to the bot's error handler.
    await bot
      .handleUpdate({
        update_id: 1,
        message: {
          message_id: 1,
          date: 0,
          chat: { id: 5, type: "private", first_name: "A" },
          from: { id: 5, is_bot: false, first_name: "A" },
          text: "hello",
        },
      })
      .catch((e: BotError) => bot.errorHandler(e));

    const logged = text();
    expect(logged).toContain("getMe failed");
    expect(logged).toContain("a Bot API call failed while handling an update");
    expect(logged).toContain("[REDACTED]");
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(TOKEN.split(":")[1]);
    expect(logged).not.toContain(encodeURIComponent(TOKEN));
  });

  it("keeps the Redis password and webhook secret out of log lines", async () => {
    const { logger, text } = capture();
    const failed = await connectRedis({
      url: `redis://warden:${REDIS_PASSWORD}@127.0.0.1:1`,
      logger,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    logger.error({ err: failed, secret: WEBHOOK_SECRET }, "redis failed");
    logger.info(`connecting to redis://warden:${REDIS_PASSWORD}@10.0.0.1:6379`);
    const logged = text();
    expect(logged).toContain("redis failed");
    expect(logged).not.toContain(REDIS_PASSWORD);
    expect(logged).not.toContain(WEBHOOK_SECRET);
  });

  it("scrubs token-shaped strings even when the token is not configured", () => {
    expect(scrubSecrets("GET /bot111111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/getMe", [])).toBe(
      "GET /bot[REDACTED]/getMe",
    );
    expect(scrubSecrets("rediss://u:pw@host:1", [])).toBe("rediss://u:[REDACTED]@host:1");
  });
});
