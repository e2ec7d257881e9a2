/**
 * The recorder and the audit log on a Redis Cluster, under load: member
 * messages of several cases at once (so several masters), many in flight.
 * Every message is kept once, counted once and listed once in the cases'
 * batched `collect` entries, and each case's log verifies.
 */
import { sequentialize } from "@grammyjs/runner";
import { Bot, type Context } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChat, createCase } from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { createRecorder } from "../../src/collect/recorder.ts";
import { collectKeys } from "../../src/store/keys.ts";
import type { RedisConnection } from "../../src/store/redis.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { connectTestCluster, freshCaseId } from "../helpers/cluster.ts";

const CASES = 4;
const PER_CASE = 150;
const MEMBERS = 20;
const botInfo = {
  id: 7_000_000_002,
  is_bot: true,
  first_name: "Warden",
  username: "w_bot",
} as UserFromGetMe;

describe("the recorder on a Redis Cluster", () => {
  let connection: RedisConnection;
  beforeAll(async () => {
    connection = await connectTestCluster();
  });
  afterAll(async () => {
    await connection?.close();
  });

  it("keeps every message of several cases once, and each case's log verifies", async () => {
    const { redis } = connection;
    const audit = createAuditLog({ redis });
    const deps = { redis, audit, actor: { kind: "cli" as const, name: "test" } };
    const cases = Array.from({ length: CASES }, (_, i) => ({
      id: freshCaseId(`rec${i}`),
      chat: -1_003_000_000_000 - process.pid * 100 - i,
    }));
    for (const c of cases) {
      await createCase(deps, {
        id: c.id,
        title: "t",
        authority: "a",
        purpose: "p",
        retentionDays: 1,
      });
      await addChat(deps, c.id, { chatId: c.chat, alias: "fw1" });
    }
    const bot = new Bot("7000000002:AAtesttesttesttesttesttesttesttest", { botInfo });
    bot.api.config.use(async () => ({ ok: true, result: true }) as never);
    const recorder = createRecorder({
      redis,
      audit,
      logger: pino({ level: "silent" }),
      api: bot.api,
    });
    bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
    bot.use(recorder.middleware);

    const date = Math.floor(Date.now() / 1000);
    const updates: Update[] = [];
    for (let n = 0; n < PER_CASE; n++)
      for (const [i, c] of cases.entries()) {
        const id = n * CASES + i + 1;
        updates.push({
          update_id: id,
          message: {
            message_id: n + 1,
            date,
            chat: { id: c.chat, type: "supergroup", title: "Vuurwerk" },
            from: { id: 10_000 + (n % MEMBERS), is_bot: false, first_name: `Lid ${n % MEMBERS}` },
            text: `bericht ${n}`,
          },
        } as Update);
      }
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < updates.length) await bot.handleUpdate(updates[next++] as Update);
      }),
    );
    // Twice: a redelivery is recognised and kept no second time.
    for (const u of updates.slice(0, 40)) await bot.handleUpdate(u);
    await recorder.close();
    await audit.close();

    for (const c of cases) {
      expect(await redis.hlen(collectKeys.messages(c.id, c.chat))).toBe(PER_CASE);
      let counted = 0;
      for (let m = 0; m < MEMBERS; m++)
        counted += Number(
          (await redis.hget(collectKeys.member(c.id, 10_000 + m), "count:text")) ?? 0,
        );
      expect(counted).toBe(PER_CASE);
      const collected = (await auditEntries(redis, c.id))
        .filter((e) => e.op === "collect")
        .flatMap((e) => (e as { update_ids?: number[] }).update_ids ?? []);
      expect(collected.length).toBe(PER_CASE);
      expect(new Set(collected).size).toBe(PER_CASE);
      await expectLogVerifies(redis, c.id);
    }
  });
});
