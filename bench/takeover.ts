import { pathToFileURL } from "node:url";
import { Bot } from "grammy";
import type { Update } from "grammy/types";
import { Redis } from "ioredis";
import pino from "pino";
import { addChat, addRole, createCase, setControlRoom } from "../src/actions/case-changes.ts";
import { createAuditLog } from "../src/audit/record.ts";
import { createWardenBot, startPolling } from "../src/bot/create.ts";
import { startSimulator } from "../src/sim/index.ts";
import { startRedisServer } from "../tests/setup/redis-server.ts";

/**
 * Takeover benchmark (issue 5), against a private loopback redis-server:
 *  1. A full takeover of one chat (check, lockdown, freeze, warn and pin)
 *     through the simulator with its rate limits on: Bot API calls on the
 *     seized chat against the minimum the Bot API allows, and wall time.
 *  2. Command handling overhead without Telegram: /freeze handled end to end
 *     (access control, audit write-ahead, state) with the API answered
 *     in-process, p50/p99, next to a bare grammY bot answering a command the
 *     same way (the baseline, measured in the same run).
 */

const logger = pino({ level: "silent" });

/** The fewest calls that change a chat the same way: */
const MINIMUM: Record<string, number> = {
  // check: getChat, getChatAdministrators (which includes the bot's own rights), getChatMemberCount
  check: 3,
  // lockdown: setChatTitle, setChatDescription, setChatPhoto, exportChatInviteLink
  lockdown: 4,
  // freeze: setChatPermissions; its getChat (to save what thaw restores) could reuse check's, so 1
  freeze: 1,
  warn: 1,
  pin: 1,
};

async function stage(redisUrl: string, rateLimits: boolean) {
  const sim = await startSimulator({ rateLimits });
  const c = sim.control;
  const { token, user: botUser } = await c.createBot({ username: "warden_bot" });
  const owner = await c.createUser({ first_name: "Owner" });
  const operator = await c.createUser({ first_name: "Operator" });
  const supervisor = await c.createUser({ first_name: "Supervisor" });
  const { id: group } = await c.createChat({
    type: "supergroup",
    title: "Vuurwerk",
    owner_id: owner.id,
  });
  await c.promote(group, botUser.id, "all");
  const { id: room } = await c.createChat({
    type: "supergroup",
    title: "Room",
    owner_id: operator.id,
  });
  await c.join(room, supervisor.id);
  await c.join(room, botUser.id);
  await c.promote(room, botUser.id, "all");
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const audit = createAuditLog({ redis });
  const deps = { redis, audit, actor: { kind: "cli" as const, name: "bench" } };
  await createCase(deps, {
    id: "bench",
    title: "b",
    authority: "A",
    purpose: "P",
    retentionDays: 1,
  });
  await addRole(deps, "bench", { userId: operator.id, role: "operator", name: "op" });
  await addRole(deps, "bench", { userId: supervisor.id, role: "supervisor", name: "sup" });
  await addChat(deps, "bench", { chatId: group, alias: "fw1" });
  await setControlRoom(deps, "bench", room);
  return { sim, c, token, botUser, operator, supervisor, group, room, redis, audit };
}

async function fullTakeover(redisUrl: string): Promise<void> {
  const s = await stage(redisUrl, true);
  const warden = createWardenBot({
    token: s.token,
    apiRoot: s.sim.apiRoot,
    redis: s.redis,
    audit: s.audit,
    logger,
  });
  await warden.bot.init();
  const runner = startPolling(warden, logger, { timeoutSeconds: 1 });
  const botSays = async () =>
    (await s.c.chat(s.room)).messages.filter((m) => m.sender_id === s.botUser.id && !m.is_service);
  const until = async (check: () => Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error("takeover stalled");
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const say = async (text: string) => {
    const before = (await botSays()).length;
    await s.c.sendMessage(s.room, { from_id: s.operator.id, text });
    await until(async () => (await botSays()).length > before);
  };
  // The bot's promotion reaches the control room as an alert first; start once it is there.
  await until(async () => (await botSays()).length >= 1);
  const firstCall = (await s.c.calls()).at(-1)?.seq ?? 0;
  const started = performance.now();
  await say("/check fw1");
  await say("/lockdown fw1");
  const request = (await botSays()).at(-1)?.message as {
    message_id: number;
    reply_markup?: { inline_keyboard: { callback_data: string }[][] };
  };
  const before = (await botSays()).length;
  await s.c.pressButton({
    from_id: s.supervisor.id,
    chat_id: s.room,
    message_id: request.message_id,
    data: request.reply_markup?.inline_keyboard[0]?.[0]?.callback_data as string,
  });
  await until(async () => (await botSays()).length > before);
  await say("/freeze fw1 trade");
  await say("/warn fw1 takeover pin");
  const wall = performance.now() - started;
  const calls = (await s.c.calls(firstCall)).filter(
    (call) => call.params.chat_id === s.group || call.method === "getMe",
  );
  const rateLimited = (await s.c.calls(firstCall)).filter((call) => call.error_code === 429).length;
  await runner.stop();
  await warden.close();
  await s.audit.close();
  s.redis.disconnect();
  await s.sim.close();

  const minimum = Object.values(MINIMUM).reduce((a, b) => a + b, 0);
  const byMethod = new Map<string, number>();
  for (const call of calls) byMethod.set(call.method, (byMethod.get(call.method) ?? 0) + 1);
  console.log(
    "\nFull takeover of one chat (check, lockdown, freeze, warn and pin), simulator rate limits on",
  );
  console.log(
    `  Bot API calls on the seized chat: ${calls.length}   minimum the Bot API allows: ${minimum}   goal: equal`,
  );
  console.log(`  by method: ${[...byMethod].map(([m, n]) => `${m}×${n}`).join(", ")}`);
  console.log(
    "  (freeze re-reads the permissions just before changing them, so thaw restores what was there at that moment;\n" +
      "   lockdown asks whether the chat is a forum now, so a chat that turned topics on since /check keeps no topic open)",
  );
  console.log(
    `  wall time: ${wall.toFixed(0)} ms, including the supervisor's approval round trip; 429s met: ${rateLimited}`,
  );
}

/** Answers every Bot API call in-process, so only Warden's own work is timed. */
function cannedApi(bot: Bot, groupId: number): void {
  let messageId = 1000;
  bot.api.config.use(async (_prev, method) => {
    const result: Record<string, unknown> = {
      getChat: {
        id: groupId,
        type: "supergroup",
        title: "Vuurwerk",
        permissions: { can_send_messages: true },
      },
      setChatPermissions: true,
      sendMessage: {
        message_id: ++messageId,
        date: 0,
        chat: { id: groupId, type: "supergroup", title: "x" },
        text: "ok",
      },
      deleteMessage: true,
    };
    return { ok: true, result: result[method] ?? true } as never;
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function overhead(redisUrl: string): Promise<void> {
  const s = await stage(redisUrl, false);
  const botInfo = {
    id: s.botUser.id,
    is_bot: true as const,
    first_name: "Warden",
    username: "warden_bot",
    can_join_groups: true,
    can_read_all_group_messages: true,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
  const warden = createWardenBot({
    token: s.token,
    apiRoot: "http://127.0.0.1:9",
    redis: s.redis,
    audit: s.audit,
    logger,
    throttle: false,
    botInfo,
  } as never);
  warden.bot.botInfo = botInfo as never;
  cannedApi(warden.bot, s.group);
  const bare = new Bot(s.token, { botInfo: botInfo as never });
  cannedApi(bare, s.group);
  bare.command("freeze", async (ctx) => {
    await ctx.api.setChatPermissions(s.group, { can_send_messages: false });
    await ctx.reply("frozen");
  });
  const update = (i: number): Update => ({
    update_id: 100_000 + i,
    message: {
      message_id: 100_000 + i,
      date: Math.floor(Date.now() / 1000),
      chat: { id: s.room, type: "supergroup", title: "Room" },
      from: { id: s.operator.id, is_bot: false, first_name: "Operator" },
      text: "/freeze fw1 full",
      entities: [{ type: "bot_command", offset: 0, length: 7 }],
    },
  });
  const time = async (handle: (u: Update) => Promise<void>, n: number, offset: number) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await handle(update(offset + i));
      samples.push(performance.now() - t);
    }
    return samples.sort((a, b) => a - b);
  };
  await time((u) => warden.bot.handleUpdate(u), 200, 0); // warm-up
  await time((u) => bare.handleUpdate(u), 200, 0);
  const n = 2000;
  const wardenSamples = await time((u) => warden.bot.handleUpdate(u), n, 10_000);
  const bareSamples = await time((u) => bare.handleUpdate(u), n, 10_000);
  console.log(
    `\nCommand handling without Telegram (/freeze fw1 full, ${n} commands, API answered in-process, real Redis)`,
  );
  console.log(
    `  bare grammY command handler: p50 ${percentile(bareSamples, 50).toFixed(3)} ms   p99 ${percentile(bareSamples, 99).toFixed(3)} ms`,
  );
  console.log(
    `  Warden (access control, write-ahead audit, state): p50 ${percentile(wardenSamples, 50).toFixed(3)} ms   p99 ${percentile(wardenSamples, 99).toFixed(3)} ms   goal p99 < 5 ms`,
  );
  await warden.close();
  await s.audit.close();
  s.redis.disconnect();
  await s.sim.close();
}

export async function benchTakeover(): Promise<void> {
  const redis = await startRedisServer();
  try {
    await fullTakeover(redis.url);
    await overhead(redis.url);
  } finally {
    await redis.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await benchTakeover();
}
