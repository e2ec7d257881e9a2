import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { addChat, createCase } from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import { getMemberRecord } from "../../src/collect/queries.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { eventually } from "../helpers/warden.ts";

/**
 * The bot process is killed (SIGKILL: no shutdown, no flush) in the middle of
 * a stream of updates and started again: every update is persisted exactly
 * once, because nothing was confirmed to Telegram before it was persisted.
 */

const BOT = fileURLToPath(new URL("./fixtures/bot-process.ts", import.meta.url));

function startBot(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", BOT], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      if (c.toString().includes("polling")) resolve(child);
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`bot process exited (${code ?? signal}) before polling: ${err}`)),
    );
  });
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("a bot process killed mid-stream", () => {
  it("loses nothing and doubles nothing once it is started again", async () => {
    const sim = await startSimulator({ rateLimits: false });
    cleanup.push(() => sim.close());
    const control = sim.control;
    const { token, user: botUser } = await control.createBot({ username: "warden_bot" });
    const owner = await control.createUser({ first_name: "Owner" });
    const bob = await control.createUser({ first_name: "Bob", username: "bob_cobra" });
    const { id: group } = await control.createChat({
      type: "supergroup",
      title: "Vuurwerk",
      owner_id: owner.id,
    });
    await control.join(group, bob.id);
    await control.promote(group, botUser.id, "all");
    const redisUrl = await freshRedisUrl();
    const redis = new Redis(redisUrl);
    cleanup.push(() => redis.disconnect());
    const audit = createAuditLog({ redis });
    cleanup.push(() => audit.close());
    const deps = { redis, audit, actor: { kind: "cli" as const, name: "test" } };
    await createCase(deps, {
      id: "op-crash",
      title: "t",
      authority: "OM-1",
      purpose: "p",
      retentionDays: 30,
    });
    await addChat(deps, "op-crash", { chatId: group, alias: "fw1" });
    const env = { BOT_TOKEN: token, API_ROOT: sim.apiRoot, REDIS_URL: redisUrl };
    const messages = collectKeys.messages("op-crash", group);

    let bot = await startBot(env);
    cleanup.push(() => {
      bot.kill("SIGKILL");
    });
    const sent: number[] = [];
    const kept = async () =>
      (await redis.hmget(messages, ...sent.map(String))).filter((v) => v !== null).length;
    const total = 150;
    let killedAt = -1;
    for (let i = 0; i < total; i++) {
      const m = await control.sendMessage(group, { from_id: bob.id, text: `bericht ${i}` });
      sent.push(m.message_id);
      if (i === 60) {
        await eventually(async () => (await kept()) >= 30);
        bot.kill("SIGKILL");
        await new Promise((resolve) => bot.once("exit", resolve));
        killedAt = await kept();
      }
    }
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(total);

    bot = await startBot(env);
    await eventually(async () => (await kept()) === total, 20_000);
    await eventually(async () => (await control.bot(botUser.id)).pending_update_count === 0);

    expect((await getMemberRecord(redis, "op-crash", bob.id))?.counts.text).toBe(total);
    const texts = (await redis.hmget(messages, ...sent.map(String))).map(
      (v) => (JSON.parse(v as string) as { message: { text: string } }).message.text,
    );
    expect(new Set(texts).size).toBe(total);
    // Every persisted update reaches a collect entry exactly once, even those the killed process
    // persisted but never wrote to the log: the next process picks its queue up.
    const seen = (await redis.zrange(collectKeys.seenUpdates("op-crash"), 0, -1)).map(Number);
    await eventually(async () => {
      const collected = (await auditEntries(redis, "op-crash"))
        .filter((e) => e.op === "collect")
        .flatMap((e) => e.update_ids ?? []);
      return collected.length === seen.length;
    });
    const collected = (await auditEntries(redis, "op-crash"))
      .filter((e) => e.op === "collect")
      .flatMap((e) => e.update_ids ?? []);
    expect(new Set(collected)).toEqual(new Set(seen));
    await expectLogVerifies(redis, "op-crash");
  });
});
