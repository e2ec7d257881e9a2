import type { Update } from "grammy/types";
import { Redis } from "ioredis";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createIntakeConsumer } from "../../src/bot/intake/consumer.ts";
import {
  createIntakeQueue,
  INTAKE_PARTITIONS,
  LEASE_MS,
  partitionOf,
} from "../../src/bot/intake/queue.ts";
import type { RecordedListener } from "../../src/collect/recorder.ts";
import { intakeKeys } from "../../src/store/keys.ts";
import { undeclaredKeys } from "../helpers/keys.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { eventually } from "../helpers/warden.ts";

/**
 * The intake queue (src/bot/intake/queue.ts) and its consumer, on a real
 * Redis: an update is queued once whatever Telegram redelivers, each entry
 * goes to one consumer and leaves its stream once handled, a chat's updates
 * stay in one partition, and what the last holder of a partition left
 * pending is taken over by the next.
 */

const connections: Redis[] = [];
afterEach(() => {
  for (const r of connections.splice(0)) r.disconnect();
});

async function redis(): Promise<Redis> {
  const r = new Redis(await freshRedisUrl());
  connections.push(r);
  return r;
}

const update = (id: number, text = `m${id}`) =>
  JSON.stringify({
    update_id: id,
    message: { message_id: id, date: 1, chat: { id: -100, type: "supergroup" }, text },
  });

const silent = pino({ level: "silent" });

describe("the intake queue", () => {
  it("queues an update once, gives each entry to one consumer, and removes it once acknowledged", async () => {
    const r = await redis();
    const a = createIntakeQueue({ redis: r, consumer: "a" });
    const b = createIntakeQueue({ redis: r, consumer: "b" });
    await a.prepare();
    await b.prepare(); // a second process finds the groups there
    expect(await a.add(7, update(7))).toBe("added");
    expect(await b.add(7, update(7))).toBe("duplicate");
    expect(await a.add(8, update(8))).toBe("added");
    expect(await a.length()).toBe(2);

    const first = await a.readNew([0], 1);
    expect(first.map((e) => e.updateId)).toEqual([7]);
    expect(first[0]?.update?.message?.text).toBe("m7");
    const second = await b.readNew([0], 10);
    expect(second.map((e) => e.updateId)).toEqual([8]);
    expect(await a.readNew([0], 10)).toEqual([]);

    await a.ack(first);
    await b.ack(second);
    expect(await a.length()).toBe(0);
    // Handled and gone, and still known: Telegram redelivering it changes nothing.
    expect(await a.add(7, update(7))).toBe("duplicate");
    expect(await a.readNew([0], 10)).toEqual([]);
    expect(await undeclaredKeys(r)).toEqual([]);
  });

  it("puts every update of a chat in the same partition, and spreads chats over the partitions", () => {
    const of = (chat: number, id: number) =>
      partitionOf({ update_id: id, message: { chat: { id: chat }, from: { id: 5 } } });
    for (const chat of [-100, -1001234567890, 42])
      expect(new Set([1, 2, 3].map((id) => of(chat, id))).size).toBe(1);
    // A member's reaction and a callback go where their chat (or, without one, their sender) goes.
    expect(
      partitionOf({
        update_id: 1,
        callback_query: { from: { id: 9 }, message: { chat: { id: -100 } } },
      }),
    ).toBe(of(-100, 1));
    const used = new Set(Array.from({ length: 200 }, (_, i) => of(-1_000_000 - i, 1)));
    expect(used.size).toBe(INTAKE_PARTITIONS);
  });

  it("lets the next holder of a partition take over what the last one left pending, oldest first; an entry begun too often goes to the dead letters", async () => {
    const r = await redis();
    const a = createIntakeQueue({ redis: r, consumer: "a" });
    const b = createIntakeQueue({ redis: r, consumer: "b" });
    await a.prepare();
    expect(await a.partitionLease(0).renew()).toBe(1);
    for (const id of [1, 2, 3]) await a.add(id, update(id));
    const held = await a.readNew([0], 2);
    expect(held.map((e) => e.updateId)).toEqual([1, 2]);
    // A holds the partition: B cannot take it.
    expect(await b.partitionLease(0).renew()).toBeUndefined();

    // A gives it up without finishing (it stopped at its time limit): B takes 1 and 2 over, then reads 3.
    await a.release();
    expect(await b.partitionLease(0).renew()).toBe(2);
    const taken = await b.takeOver(0);
    expect(taken.entries.map((e) => [e.updateId, e.deliveries])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(taken.dead).toEqual([]);
    expect((await b.readNew([0], 10)).map((e) => e.updateId)).toEqual([3]);
    await b.ack(taken.entries);

    // 3 is begun again and again by holders that die with it: after the limit, a dead letter.
    const c = createIntakeQueue({ redis: r, consumer: "c" });
    expect((await c.takeOver(0, 2)).entries.map((e) => e.updateId)).toEqual([3]);
    const d = createIntakeQueue({ redis: r, consumer: "d" });
    const last = await d.takeOver(0, 2);
    expect(last.entries).toEqual([]);
    expect(last.dead.map((e) => e.updateId)).toEqual([3]);
    expect(await d.length()).toBe(0);
    expect((await d.deadLetters()).map((l) => [l.update_id, l.attempts])).toEqual([[3, 2]]);
    expect(JSON.parse((await d.deadLetters())[0]?.update ?? "{}").message.text).toBe("m3");
    expect(await undeclaredKeys(r)).toEqual([]);
  });

  it("counts the consumers whose lease is live, and forgets one long gone that holds nothing", async () => {
    const r = await redis();
    let clock = Date.now();
    const a = createIntakeQueue({ redis: r, consumer: "a", now: () => clock });
    const b = createIntakeQueue({ redis: r, consumer: "b", now: () => clock });
    await a.prepare();
    await a.renew();
    await b.renew();
    expect(await a.liveConsumers()).toBe(2);
    clock += LEASE_MS + 1;
    await a.renew();
    expect(await a.liveConsumers()).toBe(1);
    clock += LEASE_MS + 1;
    await a.renew();
    await a.forgetGone();
    expect(await r.hkeys(intakeKeys.consumers())).toEqual(["a"]);
  });
});

/** A consumer whose bot is `handle`, with a recorder stand-in the test drives. */
function consumerOf(
  r: Redis,
  name: string,
  handle: (u: Update, recorded: () => void) => Promise<void>,
) {
  const queue = createIntakeQueue({ redis: r, consumer: name });
  const listeners: RecordedListener[] = [];
  const consumer = createIntakeConsumer({
    queue,
    handle: (u) =>
      handle(u, () => {
        for (const l of listeners) l(u.update_id, true);
      }),
    onRecorded: (l) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
    logger: silent,
    pollMs: 20,
    retryMs: 20,
    balanceMs: 100,
  });
  return { queue, consumer };
}

describe("the intake consumer", () => {
  it("hands each update to the bot once, in order, retries one that failed before it was persisted, and not one that failed after", async () => {
    const r = await redis();
    const seen: number[] = [];
    let failedBefore = false;
    const { queue, consumer } = consumerOf(r, "a", async (u, recorded) => {
      seen.push(u.update_id);
      if (u.update_id === 2 && !failedBefore) {
        failedBefore = true;
        throw new Error("Redis went away before the recorder");
      }
      recorded();
      if (u.update_id === 3) throw new Error("a command failed after the update was persisted");
    });
    await queue.prepare();
    for (const id of [1, 2, 3, 4]) await queue.add(id, update(id));
    consumer.start();
    await eventually(async () => (await queue.length()) === 0);
    expect(seen.filter((id) => id !== 2)).toEqual([1, 3, 4]);
    expect(seen.filter((id) => id === 2)).toHaveLength(2);
    expect(await consumer.stop(Date.now() + 5000)).toBe(0);
  });

  it("on stop waits for what is in flight until the deadline, and leaves the rest for the next process", async () => {
    const r = await redis();
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: number[] = [];
    const a = consumerOf(r, "a", async (u, recorded) => {
      started.push(u.update_id);
      recorded();
      if (u.update_id === 2) await stuck;
    });
    await a.queue.prepare();
    for (const id of [1, 2]) await a.queue.add(id, update(id));
    a.consumer.start();
    await eventually(() => started.length === 2);
    // Update 2 does not finish before the deadline: it stays pending, 1 is acknowledged.
    expect(await a.consumer.stop(Date.now() + 200)).toBe(1);
    await a.queue.release();
    expect(await a.queue.length()).toBe(1);

    const handled: number[] = [];
    const b = consumerOf(r, "b", async (u, recorded) => {
      recorded();
      handled.push(u.update_id);
    });
    await b.queue.renew();
    b.consumer.start();
    await eventually(async () => (await b.queue.length()) === 0, 10_000);
    expect(handled).toEqual([2]);
    expect(await b.consumer.stop(Date.now() + 5000)).toBe(0);
    release();
  });
});
