import type { RunnerHandle } from "@grammyjs/runner";
import { Redis } from "ioredis";
import pino from "pino";
import { addChat, addRole, createCase, setControlRoom } from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { createWardenBot, startPolling, type WardenBot } from "../../src/bot/create.ts";
import {
  type RunningSimulator,
  type SimClient,
  startSimulator,
  type TgUser,
} from "../../src/sim/index.ts";
import { freshRedisUrl } from "./redis.ts";

/**
 * An end-to-end stage: the simulator over HTTP, a real redis-server database,
 * a case with an operator, a supervisor and an auditor, a control room, a
 * seized supergroup "fw1" where the bot is a full admin, and Warden's real bot
 * long-polling the simulator through @grammyjs/runner.
 */

export interface Stage {
  sim: RunningSimulator;
  control: SimClient;
  redis: Redis;
  redisUrl: string;
  audit: ReturnType<typeof createAuditLog>;
  warden: WardenBot;
  runner: RunnerHandle;
  botUser: TgUser;
  token: string;
  owner: TgUser;
  operator: TgUser;
  supervisor: TgUser;
  auditor: TgUser;
  alice: TgUser;
  bob: TgUser;
  stranger: TgUser;
  group: number;
  room: number;
  caseId: string;
  /** Milliseconds; tests move it to expire approvals. */
  clock: { now: number };
  stop(): Promise<void>;
}

export interface StageOptions {
  approvalThreshold?: number;
  /** The case's own threshold (`warden case create --approval-threshold`). */
  caseApprovalThreshold?: number;
  approvalTtlSeconds?: number;
  rateLimits?: boolean;
  /** A Redis of the test's own (e.g. one it stops and restarts); default: a fresh database of the shared one. */
  redisUrl?: string;
  /** WARDEN_DATA_DIR for evidence files. */
  dataDir?: string;
  /** Where the bot's scenarios are; default: the shipped ones. */
  scenariosDir?: string;
  /** Make fw1 a forum (topics on). */
  forum?: boolean;
  /** The bot's rights in fw1; default "all". */
  botRights?: Parameters<SimClient["promote"]>[2];
}

export async function startStage(options: StageOptions = {}): Promise<Stage> {
  const sim = await startSimulator({ selfCheck: true, rateLimits: options.rateLimits ?? false });
  const control = sim.control;
  const { token, user: botUser } = await control.createBot({
    username: "warden_bot",
    first_name: "Warden",
  });
  const owner = await control.createUser({
    first_name: "Johan",
    last_name: "de Boer",
    username: "johan_deals",
    language_code: "nl",
  });
  const operator = await control.createUser({
    first_name: "Duty",
    last_name: "Officer",
    username: "duty_officer",
    language_code: "nl",
  });
  const supervisor = await control.createUser({
    first_name: "Super",
    last_name: "Visor",
    language_code: "nl",
  });
  const auditor = await control.createUser({
    first_name: "Audrey",
    last_name: "Auditor",
    language_code: "en",
  });
  const alice = await control.createUser({
    first_name: "Alice",
    username: "alice_nl",
    language_code: "en",
  });
  const bob = await control.createUser({
    first_name: "Bob",
    username: "bob_cobra",
    language_code: "nl",
  });
  const stranger = await control.createUser({ first_name: "Eve", username: "eve_stranger" });

  const { id: group } = await control.createChat({
    type: "supergroup",
    title: "Vuurwerk Deals NL",
    owner_id: owner.id,
    ...(options.forum ? { is_forum: true } : {}),
  });
  for (const u of [alice, bob, stranger, operator, supervisor]) await control.join(group, u.id);
  await control.promote(group, botUser.id, options.botRights ?? "all");
  const { id: room } = await control.createChat({
    type: "supergroup",
    title: "Control room",
    owner_id: operator.id,
  });
  for (const u of [supervisor, auditor, stranger]) await control.join(room, u.id);
  await control.join(room, botUser.id);
  await control.promote(room, botUser.id, "all");

  const redisUrl = options.redisUrl ?? (await freshRedisUrl());
  const redis = new Redis(redisUrl);
  const audit = createAuditLog({ redis });
  const caseId = "op-fw";
  const actor = { kind: "cli" as const, name: "test@server" };
  const deps = { redis, audit, actor };
  await createCase(deps, {
    id: caseId,
    title: "Vuurwerkgroepen",
    authority: "OM-2026-0142",
    purpose: "stop trade",
    retentionDays: 180,
    ...(options.caseApprovalThreshold !== undefined
      ? { approvalThreshold: options.caseApprovalThreshold }
      : {}),
  });
  await addRole(deps, caseId, { userId: operator.id, role: "operator", name: "Duty officer 1" });
  await addRole(deps, caseId, { userId: supervisor.id, role: "supervisor", name: "Supervisor 1" });
  await addRole(deps, caseId, { userId: auditor.id, role: "auditor", name: "Auditor 1" });
  await addChat(deps, caseId, { chatId: group, alias: "fw1" });
  await setControlRoom(deps, caseId, room);

  const clock = { now: Date.now() };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const warden = createWardenBot({
    token,
    apiRoot: sim.apiRoot,
    redis,
    audit,
    logger,
    throttle: false,
    now: () => clock.now,
    ...(options.approvalThreshold !== undefined
      ? { approvalThreshold: options.approvalThreshold }
      : {}),
    ...(options.approvalTtlSeconds !== undefined
      ? { approvalTtlSeconds: options.approvalTtlSeconds }
      : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.scenariosDir !== undefined ? { scenariosDir: options.scenariosDir } : {}),
  });
  await warden.bot.init();
  const runner = startPolling(warden, logger, { timeoutSeconds: 1 });
  // The bot's promotion in fw1 (made before polling began) reaches the control room as an alert;
  // once it is there, every update queued during set-up has been handled.
  await eventually(
    async () => (await botMessages({ control, botUser } as Stage, room)).length >= 1,
  );
  return {
    sim,
    control,
    redis,
    redisUrl,
    audit,
    warden,
    runner,
    botUser,
    token,
    owner,
    operator,
    supervisor,
    auditor,
    alice,
    bob,
    stranger,
    group,
    room,
    caseId,
    clock,
    async stop() {
      if (runner.isRunning()) await runner.stop();
      await warden.close();
      await audit.close();
      redis.disconnect();
      await sim.close();
    },
  };
}

/** Polls `check` until it returns a truthy value, for at most `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `condition not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** Messages the bot has sent to a chat, newest last. */
export async function botMessages(
  stage: Stage,
  chatId: number,
): Promise<Array<{ message_id: number; text?: string }>> {
  const snapshot = await stage.control.chat(chatId);
  return snapshot.messages
    .filter((m) => m.sender_id === stage.botUser.id && !m.is_service)
    .map((m) => m.message as { message_id: number; text?: string });
}

/** Sends `text` as `from` in `chatId`, then waits for the bot's next answer there (or in `answerIn`). */
export async function command(
  stage: Stage,
  chatId: number,
  from: TgUser,
  text: string,
  opts: { answerIn?: number; reply_to_message_id?: number; expectAnswer?: boolean } = {},
): Promise<string | undefined> {
  const answerChat = opts.answerIn ?? chatId;
  const before = (await botMessages(stage, answerChat)).length;
  await stage.control.sendMessage(chatId, {
    from_id: from.id,
    text,
    ...(opts.reply_to_message_id ? { reply_to_message_id: opts.reply_to_message_id } : {}),
  });
  if (opts.expectAnswer === false) return undefined;
  const answers = await eventually(async () => {
    const now = await botMessages(stage, answerChat);
    return now.length > before ? now : undefined;
  });
  return answers.at(-1)?.text;
}

/** Waits until every update the simulator has queued for the bot was handled (confirmed by a later poll). */
export async function settled(stage: Stage): Promise<void> {
  await eventually(
    async () => (await stage.control.bot(stage.botUser.id)).pending_update_count === 0,
  );
}

/** A supervisor presses Approve under the latest request in the control room. */
export async function approveLatestRequest(s: Stage): Promise<void> {
  const request = (await s.control.chat(s.room)).messages
    .map(
      (m) =>
        m.message as {
          message_id: number;
          reply_markup?: { inline_keyboard: { callback_data: string }[][] };
        },
    )
    .filter((m) => m.reply_markup)
    .at(-1);
  const data = request?.reply_markup?.inline_keyboard[0]?.[0]?.callback_data as string;
  const { callback_query_id } = await s.control.pressButton({
    from_id: s.supervisor.id,
    chat_id: s.room,
    message_id: request?.message_id as number,
    data,
  });
  await eventually(async () => (await s.control.callbackAnswer(callback_query_id)).answered);
}
