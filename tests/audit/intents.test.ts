import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { performAudited } from "../../src/audit/intents.ts";
import {
  AuditUnavailableError,
  createAuditLog,
  RecordRefusedError,
} from "../../src/audit/record.ts";
import { auditKeys, readStoredLines } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { startRedisServer } from "../setup/redis-server.ts";
import { freshLog, operator } from "./helpers.ts";

const CASE = "op-wal";
const ban = {
  case: CASE,
  actor: operator,
  op: "ban",
  target: { chat_id: -100123, user_ids: [42] },
};

async function entries(redis: Redis) {
  const out: Record<string, unknown>[] = [];
  for await (const s of readStoredLines(redis, CASE)) out.push(JSON.parse(s.line ?? "null"));
  return out;
}

describe("write-ahead intents", () => {
  it("logs the intent, acknowledged by Redis, before the action, then the outcome naming it", async () => {
    const { redis, log } = await freshLog();
    let seenBeforeAction: string[] = [];
    const value = await performAudited(
      log,
      ban,
      async () => {
        seenBeforeAction = await redis.hkeys(auditKeys.openIntents(CASE));
        return { banned: true };
      },
      (v) => ({ result: { ok: true }, params: v }),
    );
    expect(value).toEqual({ banned: true });
    expect(seenBeforeAction).toEqual(["1"]);
    const [intent, outcome] = await entries(redis);
    expect(intent).toMatchObject({ seq: 1, op: "ban", phase: "intent", target: ban.target });
    expect(outcome).toMatchObject({
      seq: 2,
      op: "ban",
      phase: "outcome",
      intent_seq: 1,
      result: { ok: true },
      params: { banned: true },
    });
    expect(await redis.hlen(auditKeys.openIntents(CASE))).toBe(0);
    expect((await verifyCaseLog(redis, CASE)).ok).toBe(true);
  });

  it("logs Telegram's error as the outcome and rethrows it", async () => {
    const { redis, log } = await freshLog();
    const telegramError = Object.assign(new Error("Call to 'banChatMember' failed!"), {
      error_code: 400,
      description: "Bad Request: user not found",
    });
    await expect(performAudited(log, ban, () => Promise.reject(telegramError))).rejects.toBe(
      telegramError,
    );
    const [, outcome] = await entries(redis);
    expect(outcome).toMatchObject({
      phase: "outcome",
      intent_seq: 1,
      result: { ok: false, error_code: 400, description: "Bad Request: user not found" },
    });
  });

  it("never performs an action whose intent was refused", async () => {
    const { log } = await freshLog();
    let performed = false;
    const consult = { case: CASE, actor: operator, op: "consult", target: { user_ids: [42] } };
    await expect(
      performAudited(log, consult, async () => {
        performed = true;
      }),
    ).rejects.toThrow(RecordRefusedError);
    expect(performed).toBe(false);
  });

  it("fails closed: with Redis down the action is not performed and the operator gets AuditUnavailableError", async () => {
    const server = await startRedisServer();
    const redis = new Redis(server.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on("error", () => undefined);
    await new Promise((resolve) => redis.once("ready", resolve));
    const log = createAuditLog({ redis, software: { version: "t", commit: "t" } });
    try {
      await performAudited(log, ban, async () => true);
      await server.stop();
      let performed = false;
      const attempt = performAudited(log, ban, async () => {
        performed = true;
      });
      await expect(attempt).rejects.toThrow(AuditUnavailableError);
      await expect(attempt).rejects.toThrow(/the action was not performed/);
      expect(performed).toBe(false);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it("a late outcome for an intent already closed as unknown is kept as information, not a second outcome", async () => {
    const { redis, log } = await freshLog();
    const { closeDanglingIntents } = await import("../../src/audit/intents.ts");
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const performing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const pending = performAudited(log, ban, () => {
      started();
      return new Promise<string>((resolve) => {
        release = () => resolve("done");
      });
    });
    await performing;
    await closeDanglingIntents(log, CASE);
    release();
    await pending;
    const all = await entries(redis);
    expect(all.map((e) => e.phase)).toEqual(["intent", "outcome", "info"]);
    expect(all[2]).toMatchObject({ intent_seq: 1, params: { late_outcome: true } });
    expect((await verifyCaseLog(redis, CASE)).failure).toBeUndefined();
  });

  it("closes a consultation's or disclosure's dangling intent with its justification and recipients", async () => {
    const { redis, log } = await freshLog();
    const { closeDanglingIntents } = await import("../../src/audit/intents.ts");
    const look = { case: CASE, actor: operator, justification: "request of the prosecutor" };
    await log.record({ ...look, op: "consult", phase: "intent", params: { export: "members" } });
    await log.record({
      ...look,
      op: "disclose",
      phase: "intent",
      recipients: ["OM Breda"],
      params: { export: "messages" },
    });
    // An export cut off (Ctrl-C, the replicas not answering) leaves both open; the next start
    // closes them as unknown, and must not be refused for lack of a justification.
    const closed = await closeDanglingIntents(log, CASE);
    expect(closed.map((c) => c.outcome.op)).toEqual(["consult", "disclose"]);
    const all = await entries(redis);
    expect(all.slice(2)).toMatchObject([
      { op: "consult", phase: "outcome", justification: "request of the prosecutor" },
      { op: "disclose", phase: "outcome", recipients: ["OM Breda"] },
    ]);
    expect((await verifyCaseLog(redis, CASE)).failure).toBeUndefined();
  });
});
