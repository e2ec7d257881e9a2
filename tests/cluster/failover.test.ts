/**
 * A Redis Cluster master SIGKILLed in the middle of a stream of member
 * messages, under a live `warden start` with REDIS_WAIT_REPLICAS=1 — polling,
 * the master of the case's slot; webhook, the master of the intake queue's —
 * the master's replica takes over and Warden reconnects. While that shard has
 * no replica Warden confirms nothing more (Telegram keeps the updates); once
 * the killed node is back, as the new master's replica, it goes on, and every
 * message is kept exactly once — none lost, none doubled, none collected
 * twice. The cluster is this file's own (the shared one is not killed under
 * other tests). The figures measured (kill → replica serving, kill → every
 * message kept) are printed for docs/operations.md; nothing asserts on time.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { collectKeys, intakeKeys, keys } from "../../src/store/keys.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import {
  intakeLength,
  keptMessages,
  killStarted,
  type LiveStage,
  spawnStart,
  startLiveStage,
} from "../helpers/live.ts";
import { eventually } from "../helpers/warden.ts";
import { type RunningCluster, startRedisCluster } from "../setup/redis-cluster.ts";
import { freePort } from "../setup/redis-process.ts";

const MESSAGES = 120;
const BEFORE_KILL = 40;

let cluster: RunningCluster | undefined;
let stage: LiveStage | undefined;
afterEach(async () => {
  killStarted();
  await stage?.close();
  stage = undefined;
});
afterAll(async () => {
  await cluster?.stop();
});

async function modeEnv(mode: "polling" | "webhook"): Promise<Record<string, string>> {
  if (mode === "polling") return {};
  const port = await freePort();
  return {
    BOT_MODE: "webhook",
    WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/hook`,
    WEBHOOK_SECRET: "s3cret-token_for-the-hook",
    WEBHOOK_HOST: "127.0.0.1",
    WEBHOOK_PORT: String(port),
  };
}

describe("a cluster master killed mid-stream", { timeout: 240_000 }, () => {
  for (const mode of ["polling", "webhook"] as const)
    it(`${mode} with REDIS_WAIT_REPLICAS=1: nothing lost, doubled or collected twice`, async () => {
      await cluster?.stop();
      cluster = await startRedisCluster();
      const s = await startLiveStage({ redis: { url: cluster.url, mode: "cluster" } });
      stage = s;
      const env = {
        ...s.env,
        ...(await modeEnv(mode)),
        REDIS_WAIT_REPLICAS: "1",
        REDIS_WAIT_TIMEOUT: "1",
      };
      // What confirms an update to Telegram: the case's step (polling), the intake queue (webhook).
      const confirmingKey = mode === "polling" ? keys.caseMeta(s.caseId) : intakeKeys.updates(0);
      const c = s.sim.control;
      let sent = 0;
      const burst = async (until: number) => {
        while (sent < until) {
          const batch: Promise<unknown>[] = [];
          for (let k = 0; k < 4 && sent < until; k++) {
            const i = sent++;
            batch.push(
              c.sendMessage(s.group, {
                from_id: (i % 2 ? s.bob : s.alice).id,
                text: `bericht ${i}`,
              }),
            );
          }
          await Promise.all(batch);
        }
      };

      const warden = spawnStart(env);
      await eventually(() => warden.logs().includes("Warden is running live"), 60_000);
      await burst(BEFORE_KILL);
      await eventually(async () => (await keptMessages(s)).messages >= 5, 30_000);

      // The master of the case's slot goes, with whatever it had not yet passed on.
      const victim = await cluster.masterOf(confirmingKey);
      const killedAt = Date.now();
      await victim.kill("SIGKILL");
      const sending = burst(MESSAGES);
      await eventually(
        async () => (await cluster?.masterOf(confirmingKey))?.port !== victim.port,
        60_000,
      );
      const promotedMs = Date.now() - killedAt;
      // The killed node comes back as the new master's replica; then updates are confirmed again.
      await victim.restart();
      await cluster.healthy();
      const replicatedMs = Date.now() - killedAt;
      await sending;
      await eventually(async () => {
        const last = String(MESSAGES - 1);
        const texts = await s.redis.hvals(collectKeys.messages(s.caseId, s.group));
        return texts.some((t) => t.includes(`bericht ${last}`));
      }, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${warden.logs()}`);
      });
      const goingOnMs = Date.now() - killedAt;
      await eventually(async () => (await keptMessages(s)).messages === MESSAGES, 90_000).catch(
        async (err: Error) => {
          const kept = await keptMessages(s);
          throw new Error(`${err.message}: ${kept.messages} of ${MESSAGES} kept\n${warden.logs()}`);
        },
      );
      await eventually(async () => {
        const kept = await keptMessages(s);
        return kept.collected.size === (await s.redis.zcard(collectKeys.seenUpdates(s.caseId)));
      }, 30_000);
      // Telegram holds nothing back: every update was confirmed once replicas held it.
      await eventually(async () => (await c.pendingUpdates(s.botUser.id)).length === 0, 30_000);
      if (mode === "webhook")
        await eventually(async () => (await intakeLength(s.redis)) === 0, 30_000);
      expect(await warden.stop("SIGTERM", 30_000), warden.logs()).toBe(0);

      const kept = await keptMessages(s);
      const lost = MESSAGES - kept.messages;
      const doubled = kept.counted - kept.messages;
      const repeated = [...kept.collected.values()].filter((n) => n !== 1).length;
      console.log(
        `failover (${mode}): replica serving ${promotedMs} ms after the kill; killed node back as its replica at ${replicatedMs} ms; Warden kept the last message at ${goingOnMs} ms; lost ${lost}, doubled ${doubled}, collected twice ${repeated}`,
      );
      expect({ lost, doubled, repeated }).toEqual({ lost: 0, doubled: 0, repeated: 0 });
      expect(kept.collected.size).toBe(await s.redis.zcard(collectKeys.seenUpdates(s.caseId)));
      await expectLogVerifies(s.redis, s.caseId);
    });
});
