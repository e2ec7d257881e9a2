import type { Redis } from "ioredis";
import { scenarioKeys } from "../../scenario/runtime/keys.ts";
import { type RunState, readRun } from "../../scenario/runtime/run-state.ts";

/**
 * Playing a scenario run out: turn after turn, let the bot settle, approve
 * what waits for approval, move the scenario engine on, print what happened,
 * and jump the clock to the next thing that happens — until the run ends,
 * nothing is left to happen, or the time limit is reached.
 */

/** The run on a seized chat: its active one, else the case's latest. */
export async function currentRun(
  redis: Redis,
  caseId: string,
  chatId: number | undefined,
): Promise<RunState | undefined> {
  if (chatId === undefined) return undefined;
  const runId =
    (await redis.hget(scenarioKeys.active(caseId), String(chatId))) ??
    (await redis.zrevrange(scenarioKeys.runs(caseId), 0, 0))[0];
  return runId ? readRun(redis, caseId, runId) : undefined;
}

/** What a turn does, wired by the rehearsal. */
export interface Turns {
  settle(): Promise<void>;
  approvePending(): Promise<number>;
  /** Moves due scenario runs on. */
  tick(): Promise<void>;
  /** Prints what happened since the last turn. */
  flush(): Promise<void>;
  /** The run being rehearsed, as stored. */
  run(): Promise<RunState | undefined>;
  nowMs(): number;
  /** When the next thing happens (simulated ms); undefined when nothing will. */
  nextEventMs(): Promise<number | undefined>;
  advanceTo(ms: number): Promise<void>;
}

export interface RunLimits {
  /** Simulated time (ms) past which the rehearsal stops. */
  maxMs: number;
  maxDays: number;
  /** Jump without pausing; otherwise an hour of simulated time takes a real second (at most 2 s a jump). */
  fast: boolean;
  out(line: string): void;
}

export async function runUntilDone(turns: Turns, limits: RunLimits): Promise<RunState | undefined> {
  for (;;) {
    await settleAndApprove(turns);
    await turns.tick();
    await settleAndApprove(turns);
    await turns.flush();
    const run = await turns.run();
    if (run && run.status !== "running" && run.status !== "paused") return run;
    const now = turns.nowMs();
    const due = await turns.nextEventMs();
    if (due === undefined) return run;
    const next = Math.max(due, now + 1000);
    if (next > limits.maxMs) {
      limits.out(`(stopping: nothing more happens within ${limits.maxDays} simulated days)`);
      return run;
    }
    if (!limits.fast) await new Promise((r) => setTimeout(r, Math.min(2000, (next - now) / 3600)));
    await turns.advanceTo(next);
  }
}

/** After an approval the bot acts, and what it does may ask for the next approval. */
async function settleAndApprove(turns: Turns): Promise<void> {
  await turns.settle();
  while ((await turns.approvePending()) > 0) await turns.settle();
}
