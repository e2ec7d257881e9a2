import { advance } from "./advance.ts";
import { leasedDeps } from "./case-lease.ts";
import { fireGhost } from "./ghost.ts";
import { globalScenarioKeys, scenarioKeys } from "./keys.ts";
import type { EngineDeps } from "./run-context.ts";
import type { RunLocks } from "./run-lock.ts";
import { readRun } from "./run-state.ts";
import { drainQueue, type QueueWorkers } from "./trigger-queue.ts";

/**
 * The tick: nothing in the engine happens on a timer by itself. Each tick
 * visits every case with an active run, works through the run's queued
 * trigger firings, moves the run on, and fires the case's timers that are
 * due. Timers are a sorted set by due time in Redis, so one that came due
 * while the bot was down fires late rather than never.
 */

/** Timers fired per case and tick at most; the rest wait for the next tick. */
const TIMERS_PER_TICK = 500;

/** One pass over every active run and due timer. Errors are logged per run and timer, so one bad run holds up no other. */
export async function tickOnce(
  deps: EngineDeps,
  locks: RunLocks,
  workers: QueueWorkers,
): Promise<void> {
  const now = deps.now();
  for (const caseId of await deps.redis.smembers(globalScenarioKeys.cases())) {
    // With several processes, the holder of the case's lease moves its runs and fires its timers.
    const leased = await leasedDeps(deps, caseId).catch((err: Error) => {
      deps.logger.warn(
        { case: caseId, err: err.message },
        "could not take a case's scenario lease",
      );
      return undefined;
    });
    if (!leased) continue;
    await tickCase(leased, locks, workers, caseId, now);
  }
}

async function tickCase(
  deps: EngineDeps,
  locks: RunLocks,
  workers: QueueWorkers,
  caseId: string,
  now: number,
): Promise<void> {
  for (const runId of Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId)))) {
    try {
      if ((await deps.redis.llen(scenarioKeys.queue(caseId, runId))) > 0)
        await drainQueue(deps, workers, caseId, runId);
      await advance(deps, locks, caseId, runId);
    } catch (err) {
      deps.logger.error(
        { case: caseId, run: runId, err: (err as Error).message },
        "could not move a scenario on",
      );
    }
  }
  const due = await deps.redis.zrangebyscore(
    scenarioKeys.timers(caseId),
    "-inf",
    now,
    "LIMIT",
    0,
    TIMERS_PER_TICK,
  );
  for (const timer of due) {
    try {
      await fireTimer(deps, caseId, timer);
    } catch (err) {
      deps.logger.error(
        { case: caseId, timer, err: (err as Error).message },
        "a scenario timer failed; it will be tried again",
      );
    }
  }
}

/** Fires one due timer. A timer leaves the set only once it is done with, so one that failed is tried again. */
async function fireTimer(deps: EngineDeps, caseId: string, timer: string): Promise<void> {
  if (timer.startsWith("ghost:")) await fireGhost(deps, caseId, timer);
  else if (timer.startsWith("convo:")) {
    // A conversation's question timed out: the bot hands it to the conversation in that chat's order.
    const [, chat, user, ask] = timer.split(":");
    if (deps.deliver && ask) {
      await deps.deliver({
        update_id: -1,
        warden_scenario: { kind: "timeout", chat_id: Number(chat), user_id: Number(user), ask },
      });
      await deps.redis.zrem(scenarioKeys.timers(caseId), timer);
    }
  } else if (timer.startsWith("run:")) {
    // A run's own timer is acted on by advance above; one whose run has ended is dropped.
    const run = await readRun(deps.redis, caseId, timer.slice(4));
    if (!run || run.status === "finished" || run.status === "aborted")
      await deps.redis.zrem(scenarioKeys.timers(caseId), timer);
  }
}

/**
 * Serialises ticks: a call made during a pass waits for it, then runs a pass
 * of its own, so whatever came due by the time of the call is seen.
 */
export function serialTicks(pass: () => Promise<void>): () => Promise<void> {
  let ticking: Promise<void> | undefined;
  return () => {
    const run = (ticking ?? Promise.resolve()).then(pass, pass);
    ticking = run.catch(() => undefined);
    return run;
  };
}

/** The soonest timer of a case's runs (ms), for rehearsals that jump the clock. */
export async function nextTimer(deps: EngineDeps, caseId: string): Promise<number | undefined> {
  const first = await deps.redis.zrange(scenarioKeys.timers(caseId), 0, 0, "WITHSCORES");
  return first[1] === undefined ? undefined : Number(first[1]);
}
