import type { RunnerHandle } from "@grammyjs/runner";
import type { Logger } from "pino";
import type { AuditLog } from "../../audit/record.ts";
import { createWardenBot, startPolling, type WardenBot } from "../../bot/create.ts";
import type { ThrottleClock } from "../../bot/throttle.ts";
import type { Redis } from "../../store/redis.ts";

/**
 * Warden's real bot, polling the simulator as it would poll Telegram, with
 * three differences: it reads the simulated clock, its send windows pass on
 * that clock (the simulator counts Telegram's flood limits on it too), and
 * its scenario engine moves only when the rehearsal ticks it, so scenario
 * steps and held-back sends fall due in simulated time, not when a real
 * timer fires.
 */
export interface RunningBot {
  warden: WardenBot;
  runner: RunnerHandle;
}

export async function startBot(opts: {
  token: string;
  apiRoot: string;
  redis: Redis;
  audit: AuditLog;
  logger: Logger;
  nowMs(): number;
  scenariosDir: string;
  dataDir: string;
  rateLimits: boolean;
  /** Where the send windows pass: the simulated clock's timers. */
  sendClock: ThrottleClock;
}): Promise<RunningBot> {
  const warden = createWardenBot({
    token: opts.token,
    apiRoot: opts.apiRoot,
    redis: opts.redis,
    audit: opts.audit,
    logger: opts.logger,
    now: opts.nowMs,
    scenariosDir: opts.scenariosDir,
    scenarioTickMs: 0,
    dataDir: opts.dataDir,
    throttle: opts.rateLimits ? { clock: opts.sendClock } : false,
  });
  await warden.bot.init();
  const runner = startPolling(warden, opts.logger, { timeoutSeconds: 1 });
  return { warden, runner };
}

/** What the bot does besides handling updates, as the rehearsal sees it. */
export interface BotActivity {
  /** Updates the simulator holds for the bot that it has not confirmed yet (read in-process). */
  pendingUpdates(): number;
  /** Whether a scenario tick the rehearsal started is still going. */
  ticking(): boolean;
  /** Audit appends asked for and not acknowledged yet. */
  auditInFlight(): number;
  /** A count that grows with every step the bot takes (calls answered, entries written). */
  progress(): number;
}

/**
 * How the bot stands once settled: `idle` with nothing to do, or `held` when
 * all it still has to do waits for a send window to pass on the simulated
 * clock, which only the rehearsal moves.
 */
export type Settled = "idle" | "held";

/**
 * Waits until the bot can do nothing more without the clock moving: nothing
 * pending in the simulator, and nothing in the bot's hands (on two checks in
 * a row, because an update the runner has fetched but not yet handed to the
 * bot shows in neither) — or everything in its hands waiting for a send
 * window: sends held back, no call or audit append under way, and no step
 * taken over three checks. The clock moves only after this. Everything is
 * read in-process, so a check costs next to nothing and one comes every
 * millisecond.
 */
export async function settle(warden: WardenBot, activity: BotActivity): Promise<Settled> {
  const deadline = Date.now() + 120_000;
  let quiet = 0;
  let held = 0;
  let last = -1;
  for (;;) {
    const pending = activity.pendingUpdates();
    const busy = warden.busy() + (activity.ticking() ? 1 : 0);
    const progress = activity.progress();
    const throttler = warden.throttler;
    const waitsForWindow =
      throttler !== undefined &&
      throttler.waiting() > 0 &&
      throttler.inFlight() === 0 &&
      activity.auditInFlight() === 0 &&
      progress === last;
    last = progress;
    quiet = pending === 0 && busy === 0 ? quiet + 1 : 0;
    held = pending === 0 && busy > 0 && waitsForWindow ? held + 1 : 0;
    if (quiet >= 2) return "idle";
    if (held >= 3) return "held";
    if (Date.now() > deadline)
      throw new Error(
        "the rehearsal stalled: the bot did not finish handling its updates within 2 minutes",
      );
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Stops polling and closes the bot. */
export async function stopBot({ runner, warden }: RunningBot): Promise<void> {
  if (runner.isRunning()) await runner.stop();
  await warden.close();
}

/** The same when closing, after a failure or after `stopBot`: each part is tried, errors ignored. */
export async function stopBotQuietly({ runner, warden }: RunningBot): Promise<void> {
  if (runner.isRunning()) await runner.stop().catch(() => undefined);
  await warden.close().catch(() => undefined);
}
