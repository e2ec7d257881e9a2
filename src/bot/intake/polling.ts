import type { RunnerHandle } from "@grammyjs/runner";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { replicaKeys } from "../../store/keys.ts";
import { LEASE_RENEW_MS, leaseHandle, luaFenceCheck } from "../../store/lease.ts";
import { logPollFailures, runPolling, type WardenBot } from "../create.ts";
import { type Intake, within } from "./intake.ts";

/**
 * Long polling beside other processes: Telegram answers a second concurrent
 * `getUpdates` with 409 Conflict, so exactly one process polls — the holder
 * of the polling lease (a fenced lease, src/store/lease.ts, renewed every
 * second, lapsing 5 s after the last renewal). The others stand by, trying to
 * take it every second; they take updates only if they become the leader.
 *
 * The leader polls only while it surely holds the lease (judged on its own
 * clock, so a process that was frozen does not poll before it has heard from
 * Redis), and before each poll it stores the offset it is about to confirm —
 * every update below it persisted — with a script that refuses the write once
 * a newer token was granted: a leader that was frozen past its lease and wakes
 * up cannot move the offset, nor poll. A standby that becomes leader starts
 * from the stored offset, after handing the scenario inbox's updates of dead
 * processes to the bot; what the old leader fetched but had not persisted was
 * never confirmed, so Telegram hands it out again, and the recorder
 * de-duplicates what comes twice. A 409 during a hand-over (the old leader's
 * last long poll) is waited out, not fatal.
 */

export interface PollReplica {
  /** This process's id (src/store/process.ts). */
  id: string;
  redis: Redis;
}

// KEYS: the fence, the offset hash. ARGV: token, offset. 1 stored (or not newer), 0 refused.
const STORE_OFFSET = `
${luaFenceCheck("KEYS[1]", "ARGV[1]", "0")}
local current = tonumber(redis.call('HGET', KEYS[2], 'offset') or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[2], 'offset', ARGV[2], 'token', ARGV[1]) end
return 1
`;

export class PollLeaseLostError extends Error {
  override name = "PollLeaseLostError";
}

/** The confirmed offset the last polling leader stored, if any: Telegram still holds every update from it on. */
export async function storedOffset(redis: Redis): Promise<number | undefined> {
  const stored = await redis.hget(replicaKeys.pollOffset(), "offset");
  return stored === null ? undefined : Number(stored);
}

/**
 * Stores `offset` as the confirmed offset of the leader holding `token`,
 * unless a newer token was granted since (then false: the lease is lost, and
 * the caller must not poll). An offset lower than the stored one is left.
 */
export async function confirmOffset(redis: Redis, token: number, offset: number): Promise<boolean> {
  const stored = await redis.eval(
    STORE_OFFSET,
    2,
    replicaKeys.pollFence(),
    replicaKeys.pollOffset(),
    token,
    offset,
  );
  return Number(stored) === 1;
}

export function pollingIntake(warden: WardenBot, logger: Logger, replica?: PollReplica): Intake {
  if (!replica) return singlePoller(warden, logger);
  const { redis, id } = replica;
  const keys = { lease: replicaKeys.pollLease(), fence: replicaKeys.pollFence() };
  logPollFailures(warden, logger);
  const lease = leaseHandle({
    redis,
    keys,
    holder: id,
    onLost: (token, by) =>
      logger.warn(
        { token, ...(by ? { holder: by } : {}) },
        "lost the polling lease: another process polls now; standing by",
      ),
  });
  let runner: RunnerHandle | undefined;
  let leaderToken = 0;
  let stopping = false;
  let fail: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((_, reject) => {
    fail = reject;
  });

  async function lead(token: number): Promise<void> {
    const stored = await storedOffset(redis);
    leaderToken = token;
    logger.info({ token, offset: stored }, "took the polling lease: polling Telegram");
    const r = runPolling(warden, logger, {
      ...(stored !== undefined ? { startOffset: stored } : {}),
      mayPoll: () => !stopping && lease.held() === token,
      beforePoll: async (offset) => {
        if (!(await confirmOffset(redis, token, offset)))
          throw new PollLeaseLostError(
            `the polling lease was taken over (token ${token} is no longer the newest)`,
          );
      },
    });
    runner = r;
    r.task()?.catch((err: unknown) => {
      // The token refused: no process can poll with it. Anything else ends only this term.
      if (runner === r) fail(err);
    });
  }

  async function standDown(): Promise<void> {
    const r = runner;
    runner = undefined;
    leaderToken = 0;
    await r?.stop();
  }

  let turning: Promise<void> | undefined;
  async function turn(): Promise<void> {
    if (stopping) return;
    const token = await lease.renew().catch(() => lease.held());
    if (stopping) return;
    if (token !== undefined && token !== leaderToken) {
      if (runner) await standDown();
      await lead(token);
    } else if (token === undefined && runner) {
      await standDown();
    }
  }
  const timer = setInterval(() => {
    turning ??= turn()
      .catch((err: Error) => logger.warn({ err: err.message }, "polling lease: could not turn"))
      .finally(() => {
        turning = undefined;
      });
  }, LEASE_RENEW_MS);
  turning = turn()
    .catch((err: Error) => logger.warn({ err: err.message }, "polling lease: could not turn"))
    .finally(() => {
      turning = undefined;
    });
  return {
    mode: "polling",
    role: () => (runner && lease.held() === leaderToken ? "leader" : "standby"),
    done,
    async stop(deadline) {
      stopping = true;
      clearInterval(timer);
      await within(turning ?? Promise.resolve(), deadline);
      const r = runner;
      // The source is closed at once (its long poll aborted); updates fetched stay in flight.
      const stopped = await within(r?.stop() ?? Promise.resolve(), deadline);
      return (await within(warden.drained(), deadline)) && stopped;
    },
    // A standby takes over at once rather than when the lease lapses.
    release: () => lease.release(),
  };
}

/** One process alone: polls from the start (tests and embedders). */
function singlePoller(warden: WardenBot, logger: Logger): Intake {
  logPollFailures(warden, logger);
  const runner = runPolling(warden, logger);
  return {
    mode: "polling",
    role: () => "leader",
    done: runner.task() ?? Promise.resolve(),
    async stop(deadline) {
      const stopped = await within(runner.stop() ?? Promise.resolve(), deadline);
      return (await within(warden.drained(), deadline)) && stopped;
    },
    release: async () => undefined,
  };
}
