import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { ALLOWED_UPDATES, type WardenBot } from "../create.ts";
import { createIntakeConsumer } from "./consumer.ts";
import { createIntakeQueue, partitionOf } from "./queue.ts";
import { ensureWebhook } from "./register.ts";
import { createWebhookServer } from "./webhook-server.ts";

/**
 * How a live bot takes its updates, in either mode, with one way to stop:
 * `stop` ends the taking (polling: no further fetch; webhook: the listener
 * refuses new requests and closes) and waits, within a deadline, for the
 * updates in flight; `release` then gives up what this process holds in Redis
 * (the polling lease, or the webhook's intake leases), once the recorder and the audit log are
 * flushed. `warden start` (src/cli/commands/start.ts) does it in that order.
 */
export interface Intake {
  readonly mode: "polling" | "webhook";
  /** What this process does now, for /readyz: polling `leader` or `standby`; webhook `consumer`. */
  role(): string;
  /** More about the role for /readyz (the webhook partitions this process handles). */
  detail?(): Record<string, unknown>;
  /** Rejects when taking updates failed for good (polling: the token refused, another poller). */
  readonly done: Promise<void>;
  /** Stops taking updates; resolves true once those in flight are handled, false at `deadline` (ms since the epoch). */
  stop(deadline: number): Promise<boolean>;
  /** Gives up what this process holds in Redis, so another process takes over at once. */
  release(): Promise<void>;
}

/** Whether `work` settled before `deadline` (ms since the epoch); its failure counts as settled. */
export async function within(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timeUp,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WebhookIntakeOptions {
  /** WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_HOST, WEBHOOK_PORT. */
  url: string;
  secret: string;
  host: string;
  port: number;
  token: string;
  redis: Redis;
  logger: Logger;
  /** This process's id (src/store/process.ts): its consumer name. */
  id?: string;
}

/** Whether Redis answers a PING within a second (for /readyz). */
export async function redisAnswers(redis: Redis): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  const answered = redis.ping().then(
    (pong) => pong === "PONG",
    () => false,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 1000);
  });
  return Promise.race([answered, late]).finally(() => clearTimeout(timer));
}

/**
 * The webhook: listens, hands the updates of interrupted handling to the bot
 * again, starts this process's consumer of the intake queue, then points
 * Telegram here if it does not point here yet.
 */
export async function webhookIntake(
  warden: WardenBot,
  opts: WebhookIntakeOptions,
): Promise<Intake> {
  const { redis, logger } = opts;
  const bot = warden.bot;
  const queue = createIntakeQueue({ redis, ...(opts.id ? { consumer: opts.id } : {}) });
  await queue.prepare();
  await queue.renew();
  const consumer = createIntakeConsumer({
    queue,
    handle: async (update) => {
      try {
        await bot.handleUpdate(update);
      } catch (error) {
        try {
          await bot.errorHandler(error as Parameters<typeof bot.errorHandler>[0]);
        } catch (err) {
          logger.error({ err: (err as Error).message }, "the bot's error handler failed");
        }
        throw error;
      }
    },
    onRecorded: (listener) => warden.recorder.onRecorded(listener),
    logger,
  });
  const server = createWebhookServer({
    url: opts.url,
    secret: opts.secret,
    host: opts.host,
    port: opts.port,
    status: () => ({
      mode: "webhook",
      role: "consumer",
      process: queue.consumer,
      partitions: consumer.partitions(),
    }),
    logger,
    accept: async (updateId, json, update) => {
      const added = await queue.add(updateId, json, partitionOf(update, queue.partitions));
      if (added === "added") consumer.wake();
      return added;
    },
    storeReachable: () => redisAnswers(redis),
  });
  const port = await server.listen();
  try {
    // Updates whose handling a crash cut short go first, before anything newer.
    await warden.replayInterrupted();
    consumer.start();
    await ensureWebhook(
      bot.api,
      redis,
      { url: opts.url, secret: opts.secret, allowedUpdates: ALLOWED_UPDATES, token: opts.token },
      logger,
    );
  } catch (err) {
    // Not started after all: nothing stays listening or reading, and the lease goes.
    await server.close().catch(() => undefined);
    await consumer.stop(Date.now() + 5000);
    await queue.release().catch(() => undefined);
    queue.close();
    throw err;
  }
  logger.info({ host: opts.host, port }, "taking updates on the webhook");
  return {
    mode: "webhook",
    role: () => "consumer",
    detail: () => ({ partitions: consumer.partitions() }),
    done: new Promise<void>(() => undefined),
    async stop(deadline) {
      // Requests under way are answered (each within the queue's time limit); new ones are refused.
      const closed = await within(server.close(), deadline);
      const finished = (await consumer.stop(deadline)) === 0;
      return (await within(warden.drained(), deadline)) && finished && closed;
    },
    async release() {
      queue.close();
      await queue.release();
    },
  };
}
