import type { Logger } from "pino";
import { startPolling, type WardenBot } from "../create.ts";

/**
 * How a live bot takes its updates, in either mode, with one way to stop:
 * `stop` ends the taking (polling: no further fetch; webhook: the listener
 * refuses new requests and closes) and waits, within a deadline, for the
 * updates in flight; `release` then gives up what this process holds in Redis
 * (the webhook's intake lease), once the recorder and the audit log are
 * flushed. `warden start` (src/cli/commands/start.ts) does it in that order.
 */
export interface Intake {
  readonly role: "polling" | "webhook";
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

/** Long polling (see `startPolling`). */
export function pollingIntake(warden: WardenBot, logger: Logger): Intake {
  const runner = startPolling(warden, logger);
  return {
    role: "polling",
    done: runner.task() ?? Promise.resolve(),
    async stop(deadline) {
      // The source is closed at once (its long poll aborted); updates fetched stay in flight.
      const stopped = await within(runner.stop() ?? Promise.resolve(), deadline);
      return (await within(warden.drained(), deadline)) && stopped;
    },
    release: async () => undefined,
  };
}
