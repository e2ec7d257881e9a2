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
  /** Waits until the bot can do nothing more without the clock moving. */
  settle(): Promise<unknown>;
  approvePending(): Promise<number>;
  /**
   * Starts moving due scenario runs on, unless a tick is still going (it
   * may wait for a send window, which only a move of the clock ends).
   */
  tick(): void;
  /** Whether the last tick is still going. */
  ticking(): boolean;
  /** Sends held back for a send window, which the clock has to move on for. */
  held(): number;
  /** Prints what happened since the last turn. */
  flush(): Promise<void>;
  /** The run being rehearsed, as stored. */
  run(): Promise<RunState | undefined>;
  nowMs(): number;
  /** When the next thing happens (simulated ms); undefined when nothing will. */
  nextEventMs(): Promise<number | undefined>;
  advanceTo(ms: number): Promise<void>;
  /** Told after each turn, e.g. to draw a progress line. */
  onTurn?(): void;
}

export interface RunLimits {
  /** Simulated time (ms) past which the rehearsal stops. */
  maxMs: number;
  maxDays: number;
  /** Jump without pausing; otherwise an hour of simulated time takes a real second (at most 2 s a jump). */
  fast: boolean;
  out(line: string): void;
  /**
   * How the clock moves when someone watches (the console): `wait` replaces
   * the pause before each jump (to pause, step or change the speed), and
   * `idle`, asked when nothing more is due, says whether to keep going
   * anyway (a supervisor may still answer an approval request).
   */
  pace?: {
    /** Resolves true when the jump should be planned again (an answer changed what comes next). */
    wait(fromMs: number, toMs: number): Promise<boolean>;
    idle(): Promise<boolean>;
  };
}

export async function runUntilDone(turns: Turns, limits: RunLimits): Promise<RunState | undefined> {
  for (;;) {
    await settleAndApprove(turns);
    turns.tick();
    await settleAndApprove(turns);
    await turns.flush();
    turns.onTurn?.();
    const run = await turns.run();
    // A run that ended is done once nothing it set going still waits for a send window.
    const busy = turns.ticking() || turns.held() > 0;
    if (run && run.status !== "running" && run.status !== "paused" && !busy) return run;
    const now = turns.nowMs();
    const due = await turns.nextEventMs();
    // Nothing is due but a tick still going: it moves on without the clock (the next settle waits).
    if (due === undefined && turns.ticking()) continue;
    if (due === undefined) {
      if (limits.pace && (await limits.pace.idle())) continue;
      return run;
    }
    const next = Math.max(due, now + 1000);
    if (next > limits.maxMs) {
      limits.out(
        `The rehearsal stops here: nothing more happens within ${limits.maxDays} simulated days.`,
      );
      return run;
    }
    if (limits.pace) {
      if (await limits.pace.wait(now, next)) continue;
    } else if (!limits.fast)
      await new Promise((r) => setTimeout(r, Math.min(2000, (next - now) / 3600)));
    await turns.advanceTo(next);
  }
}

/** After an approval the bot acts, and what it does may ask for the next approval. */
async function settleAndApprove(turns: Turns): Promise<void> {
  await turns.settle();
  while ((await turns.approvePending()) > 0) await turns.settle();
}
