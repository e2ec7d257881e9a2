import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { freshLog, freshRedis, info } from "./helpers.ts";

/**
 * An append refused while a Redis Cluster moves the case's slot, as ioredis
 * reports it once its own retries ran out (tests/cluster/resharding.test.ts
 * has the real move): the batch is appended again, once. ioredis reports only
 * its last try, so an earlier try may have run the script before its
 * connection was cut; the log then keeps the batch as written, not twice.
 */

const GAVE_UP = "Too many Cluster redirections. Last error: ReplyError: MOVED 4242 127.0.0.1:7001";

/** `redis`, but the append script's next call fails as above, after running (`ran`) or not. */
function movingOnce(redis: Redis): { redis: Redis; arm(ran: boolean): void } {
  let armed: boolean | undefined;
  const proxy = new Proxy(redis, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop !== "evalsha") return value.bind(target);
      return async (...args: unknown[]) => {
        const ran = armed;
        if (ran === undefined) return value.apply(target, args);
        armed = undefined;
        if (ran) await value.apply(target, args);
        throw new Error(GAVE_UP);
      };
    },
  });
  return {
    redis: proxy,
    arm: (ran) => {
      armed = ran;
    },
  };
}

describe("an append refused while the case's slot moves", () => {
  it.each([
    ["refused before the script ran: appended again", false],
    ["cut off after the script ran: kept as written, not appended twice", true],
  ])("%s", async (_, ran) => {
    const { redis } = await freshRedis();
    const moving = movingOnce(redis);
    const { log } = await freshLog({ redis: moving.redis });
    // The first append loads the script, so the next runs by its hash.
    await log.record(info("moving", "warn", { n: 1 }));
    moving.arm(ran);
    const second = await log.record(info("moving", "warn", { n: 2 }), {
      writes: [["HINCRBY", "warden:{moving}:test:notes", "n", 1]],
    });
    await log.record(info("moving", "warn", { n: 3 }));
    await log.close();

    expect(second.seq).toBe(2);
    const entries = await auditEntries(redis, "moving");
    expect(entries.map((e) => e.params?.n)).toEqual([1, 2, 3]);
    expect(await redis.hget("warden:{moving}:test:notes", "n")).toBe("1");
    await expectLogVerifies(redis, "moving");
  });
});
