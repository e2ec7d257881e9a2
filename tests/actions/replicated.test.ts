import type { Api } from "grammy";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { addChat, createCase } from "../../src/actions/case-changes.ts";
import { actionEnv } from "../../src/actions/context.ts";
import { runStep } from "../../src/actions/run.ts";
import { entriesSince } from "../../src/audit/recent.ts";
import { NotReplicatedError } from "../../src/store/replicas.ts";
import { freshLog, operator } from "../audit/helpers.ts";

/**
 * An action's Telegram call waits for its intent to reach the replicas
 * (REDIS_WAIT_REPLICAS): an intent a failover lost would let a redelivered
 * update act twice. Replicas that do not answer in time stop the call, and
 * the step says it failed with nothing done.
 */

async function setUp(replicated: () => Promise<void>) {
  const store = await freshLog();
  const deps = { redis: store.redis, audit: store.log, actor: operator };
  const record = await createCase(deps, {
    id: "op-replicas",
    title: "Vuurwerk",
    authority: "OM-2026-1",
    purpose: "stop trade",
    retentionDays: 180,
  });
  const chat = await addChat(deps, record.id, { chatId: -1001234567890, alias: "fw1" });
  const env = actionEnv({
    api: {} as Api,
    redis: store.redis,
    audit: store.log,
    logger: pino({ level: "silent" }),
    now: Date.now,
    replicated,
  });
  const scope = { case: record, chat, actor: operator, idempotencyKey: "freeze:1" };
  return { store, env, scope };
}

describe("an action's call and the replicas", () => {
  it("is made only after the replicas hold its intent", async () => {
    const order: string[] = [];
    let intentWasStored = false;
    const { store, env, scope } = await setUp(async () => {
      const entries = await entriesSince(store.redis, "op-replicas", 0);
      intentWasStored = entries.some((e) => e.phase === "intent");
      order.push("replicated");
    });
    const step = await runStep(env, scope, {
      op: "chat.freeze",
      step: "setChatPermissions",
      params: {},
      perform: async () => {
        order.push("call");
        return true;
      },
    });
    expect(step.status).toBe("done");
    expect(order).toEqual(["replicated", "call"]);
    expect(intentWasStored).toBe(true);
  });

  it("is not made when the replicas do not answer in time, and the step says so", async () => {
    let called = false;
    const { store, env, scope } = await setUp(async () => {
      throw new NotReplicatedError("1 of 1 replicas did not acknowledge within 1000 ms");
    });
    const step = await runStep(env, scope, {
      op: "chat.freeze",
      step: "setChatPermissions",
      params: {},
      perform: async () => {
        called = true;
        return true;
      },
    });
    expect(called).toBe(false);
    expect(step.status).toBe("failed");
    expect(step.reason).toContain("nothing was sent to Telegram for fw1");
    const outcome = (await entriesSince(store.redis, "op-replicas", 0)).find(
      (e) => e.phase === "outcome",
    );
    expect(outcome?.result?.ok).toBe(false);
  });
});
