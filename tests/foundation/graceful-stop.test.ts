import { afterEach, describe, expect, it } from "vitest";
import { collectKeys } from "../../src/store/keys.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import {
  intakeLength,
  keptMessages,
  killStarted,
  type LiveStage,
  type StartedWarden,
  spawnStart,
  startLiveStage,
} from "../helpers/live.ts";
import { eventually } from "../helpers/warden.ts";
import { freePort } from "../setup/redis-server.ts";

/**
 * SIGTERM in the middle of a stream of member messages: `warden start` stops
 * taking updates, finishes those in flight, flushes, closes Redis and exits 0
 * within SHUTDOWN_TIMEOUT; what Telegram still held (updates not confirmed
 * before the stop) is taken by the next start, and every message is kept
 * exactly once.
 */

const SHUTDOWN_TIMEOUT = 10;
// The stop's time limit, with room for a busy machine: the only timed bound here.
const STOP_BOUND_MS = (SHUTDOWN_TIMEOUT + 15) * 1000;
const MESSAGES = 120;
const BEFORE_STOP = 40;

let stage: LiveStage | undefined;
afterEach(async () => {
  killStarted();
  await stage?.close();
  stage = undefined;
});

async function modeEnv(mode: "polling" | "webhook"): Promise<Record<string, string>> {
  if (mode === "polling") return { SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT) };
  const port = await freePort();
  return {
    SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT),
    BOT_MODE: "webhook",
    WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/hook`,
    WEBHOOK_SECRET: "s3cret-token_for-the-hook",
    WEBHOOK_HOST: "127.0.0.1",
    WEBHOOK_PORT: String(port),
  };
}

/** Waits until the started process takes updates: polling, or its webhook set and answering. */
async function taking(s: LiveStage, warden: StartedWarden, mode: "polling" | "webhook") {
  await eventually(() => warden.logs().includes("Warden is running live"), 30_000);
  if (mode === "polling")
    await eventually(async () => (await s.sim.control.bot(s.botUser.id)).polling, 20_000);
}

describe("SIGTERM in the middle of a stream of member messages", { timeout: 180_000 }, () => {
  for (const mode of ["polling", "webhook"] as const) {
    it(`${mode}: exits 0 within SHUTDOWN_TIMEOUT, and after the next start every message is kept exactly once`, async () => {
      const s = await startLiveStage();
      stage = s;
      const env = { ...s.env, ...(await modeEnv(mode)) };
      const c = s.sim.control;
      const say = (i: number) => {
        const from = i % 2 === 0 ? s.alice : s.bob;
        return c.sendMessage(s.group, { from_id: from.id, text: `bericht ${i}` });
      };

      const first = spawnStart(env);
      await taking(s, first, mode);
      let sent = 0;
      // Bursts of a few at once, so updates are in flight when the signal comes.
      const burst = async (until: number) => {
        while (sent < until) {
          const batch: Promise<unknown>[] = [];
          for (let k = 0; k < 4 && sent < until; k++) batch.push(say(sent++));
          await Promise.all(batch);
        }
      };
      await burst(BEFORE_STOP);
      await eventually(async () => (await keptMessages(s)).messages >= 5, 20_000);
      const stopping = first.stop("SIGTERM", STOP_BOUND_MS);
      await burst(MESSAGES);
      expect(await stopping, first.logs()).toBe(0);
      expect(first.logs()).toContain("stopping");
      expect(first.logs()).not.toContain("Connection is closed");
      expect(first.logs()).not.toContain(s.token);

      // A fresh start takes what Telegram still holds.
      const second = spawnStart(env);
      await taking(s, second, mode);
      await eventually(async () => (await keptMessages(s)).messages === MESSAGES, 60_000).catch(
        async (err: Error) => {
          const kept = await keptMessages(s);
          throw new Error(
            `${err.message}: ${kept.messages} of ${MESSAGES} messages kept; pending at Telegram: ${(await c.pendingUpdates(s.botUser.id)).length}\nfirst:\n${first.logs()}\nsecond:\n${second.logs()}`,
          );
        },
      );
      // Its collect entries are written within a second of the last update.
      await eventually(async () => {
        const kept = await keptMessages(s);
        return kept.collected.size === (await s.redis.zcard(collectKeys.seenUpdates(s.caseId)));
      }, 20_000);
      expect(await second.stop("SIGTERM", STOP_BOUND_MS), second.logs()).toBe(0);

      const kept = await keptMessages(s);
      expect(kept.messages).toBe(MESSAGES);
      expect(kept.counted).toBe(MESSAGES);
      const twice = [...kept.collected].filter(([, n]) => n !== 1);
      expect(twice).toEqual([]);
      expect(kept.collected.size).toBe(await s.redis.zcard(collectKeys.seenUpdates(s.caseId)));
      await expectLogVerifies(s.redis, s.caseId);
      if (mode === "webhook") {
        // The second start found the webhook as it wanted it and left it alone.
        expect(await c.calls(0, { method: "setWebhook" })).toHaveLength(1);
        expect(second.logs()).toContain("the webhook is already set");
        // Everything handled: the intake stream is empty.
        expect(await intakeLength(s.redis)).toBe(0);
      }
    });
  }
});

describe("SIGTERM while a command waits on Telegram", { timeout: 180_000 }, () => {
  /** The operator's /freeze in the group, its setChatPermissions held `latencyMs` by Telegram. */
  async function slowFreeze(s: LiveStage, warden: StartedWarden, latencyMs: number) {
    const c = s.sim.control;
    await c.injectFault({ method: "setChatPermissions", count: 1, latency_ms: latencyMs });
    await c.sendMessage(s.group, { from_id: s.operator.id, text: "/freeze" });
    // Its intent is on the record: the call is on its way to Telegram.
    await eventually(
      async () =>
        (await freezeEntries(s)).some(
          (e) => e.phase === "intent" && e.params?.step === "set-permissions",
        ),
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${warden.logs()}`);
    });
  }

  async function freezeEntries(s: LiveStage) {
    return (await auditEntries(s.redis, s.caseId)).filter((e) => e.op === "freeze");
  }

  for (const mode of ["polling", "webhook"] as const) {
    it(`${mode}: finishes the command before it exits, its outcome on the record`, async () => {
      const s = await startLiveStage();
      stage = s;
      const warden = spawnStart({ ...s.env, ...(await modeEnv(mode)) });
      await taking(s, warden, mode);
      await slowFreeze(s, warden, 3000);
      expect(await warden.stop("SIGTERM", STOP_BOUND_MS), warden.logs()).toBe(0);
      const outcome = (await freezeEntries(s)).find(
        (e) => e.phase === "outcome" && e.params?.step === "set-permissions",
      );
      expect(outcome?.result).toMatchObject({ ok: true });
      expect((await s.sim.control.chat(s.group)).permissions).toMatchObject({
        can_send_messages: false,
      });
      expect(warden.logs()).toMatch(/"msg":"stopped"/);
    });

    it(`${mode}: at SHUTDOWN_TIMEOUT exits 0 anyway, and the next start closes the interrupted step as unknown`, async () => {
      const s = await startLiveStage();
      stage = s;
      const env = { ...s.env, ...(await modeEnv(mode)), SHUTDOWN_TIMEOUT: "1" };
      const first = spawnStart(env);
      await taking(s, first, mode);
      await slowFreeze(s, first, 60_000);
      expect(await first.stop("SIGTERM", 16_000), first.logs()).toBe(0);
      expect(first.logs()).toContain("stopped at the time limit");

      const second = spawnStart(env);
      await taking(s, second, mode);
      expect(await second.stop("SIGTERM", STOP_BOUND_MS), second.logs()).toBe(0);
      expect(second.logs()).toContain("closed actions interrupted by a crash as unknown");
      const entries = await freezeEntries(s);
      const intent = entries.find(
        (e) => e.phase === "intent" && e.params?.step === "set-permissions",
      );
      const outcome = entries.find((e) => e.phase === "outcome" && e.intent_seq === intent?.seq);
      expect(outcome?.result).toMatchObject({ ok: "unknown" });
      await expectLogVerifies(s.redis, s.caseId);
    });
  }
});
