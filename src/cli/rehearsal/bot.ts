import type { RunnerHandle } from "@grammyjs/runner";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AuditLog } from "../../audit/record.ts";
import { createWardenBot, startPolling, type WardenBot } from "../../bot/create.ts";
import type { SimClient } from "../../sim/index.ts";

/**
 * Warden's real bot, polling the simulator as it would poll Telegram, with
 * two differences: it reads the simulated clock, and its scenario engine
 * moves only when the rehearsal ticks it, so scenario steps fall due in
 * simulated time, not when a real timer fires.
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
    ...(opts.rateLimits ? {} : { throttle: false as const }),
  });
  await warden.bot.init();
  const runner = startPolling(warden, opts.logger, { timeoutSeconds: 1 });
  return { warden, runner };
}

/**
 * Waits until the bot has handled everything the simulator queued for it:
 * nothing pending in the simulator and nothing in the bot's hands, on two
 * checks in a row, because an update the runner has fetched but not yet
 * handed to the bot shows in neither. The clock moves only after this.
 */
export async function settle(control: SimClient, botId: number, warden: WardenBot): Promise<void> {
  const deadline = Date.now() + 120_000;
  let quiet = 0;
  while (quiet < 2) {
    const pending = (await control.bot(botId)).pending_update_count;
    quiet = pending === 0 && warden.busy() === 0 ? quiet + 1 : 0;
    if (Date.now() > deadline)
      throw new Error(
        "the rehearsal stalled: the bot did not finish handling its updates within 2 minutes",
      );
    await new Promise((r) => setTimeout(r, quiet > 0 ? 5 : 10));
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
