import { existsSync } from "node:fs";
import { Command } from "commander";
import { createBot } from "../../bot/bot.ts";
import { listCases } from "../../store/cases.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden start`: with BOT_TOKEN, the live bot; without it, a rehearsal on
 * embedded defaults. A live run refuses anything that would let evidence live
 * only in memory or go unsigned.
 */
export function startCommand(ctx: () => CliContext): Command {
  return new Command("start")
    .description("run the bot (live with BOT_TOKEN, otherwise a rehearsal on embedded defaults)")
    .action(async () => {
      const c = ctx();
      if (c.config.live) await startLive(c);
      else await rehearse(c);
    });
}

async function startLive(c: CliContext): Promise<void> {
  const { config, logger } = c;
  if (!config.REDIS_URL) {
    throw new CliError(
      "a live run (BOT_TOKEN set) needs REDIS_URL: evidence must never live only in memory; start Redis (see docker-compose.yml) and set REDIS_URL",
    );
  }
  if (!config.WARDEN_AUDIT_KEY) {
    throw new CliError(
      "a live run needs WARDEN_AUDIT_KEY, the audit signing key: make one with `warden audit keygen --out /path/key` and set WARDEN_AUDIT_KEY",
    );
  }
  if (!existsSync(config.WARDEN_AUDIT_KEY)) {
    throw new CliError(
      `WARDEN_AUDIT_KEY points to ${config.WARDEN_AUDIT_KEY}, which does not exist`,
    );
  }
  if (config.BOT_MODE === "webhook") {
    throw new CliError("BOT_MODE=webhook is not available yet: use BOT_MODE=polling");
  }
  const store = await c.openStore({ durable: true });
  const cases = await listCases(store.connection.redis);
  const bot = createBot({
    token: config.BOT_TOKEN as string,
    apiRoot: config.TELEGRAM_API_ROOT,
    logger,
  });
  const me = await bot.api.getMe();
  logger.info(
    {
      bot: me.username,
      redis: store.connection.description,
      cases: cases.length,
      api: config.TELEGRAM_API_ROOT,
    },
    "Warden is starting in live mode",
  );
  await runUntilSignalled(c, async (signal) => {
    const { run } = await import("@grammyjs/runner");
    const runner = run(bot);
    signal.addEventListener("abort", () => void runner.stop());
    await runner.task();
  });
}

async function rehearse(c: CliContext): Promise<void> {
  const { config } = c;
  const store = await c.openStore({ durable: false });
  const cases = await listCases(store.connection.redis);
  const lines = [
    "Warden rehearsal (no BOT_TOKEN set: nothing talks to Telegram)",
    "",
    "Environment:",
    `  node        ${process.version} (needs >= 20)`,
    `  redis       ${store.connection.description}`,
    `  bot api     ${config.TELEGRAM_API_ROOT === "https://api.telegram.org" ? "the built-in simulator (rehearsal)" : config.TELEGRAM_API_ROOT}`,
    `  audit key   ${config.WARDEN_AUDIT_KEY ?? "none: the rehearsal signs with an ephemeral key"}`,
    `  cases       ${cases.length}`,
    "",
    "What a live run would do (set BOT_TOKEN, REDIS_URL and WARDEN_AUDIT_KEY):",
    "  1. connect to Redis and refuse to run on anything that is not durable",
    "  2. open each case's audit log and close intents a crash left without an outcome",
    `  3. poll Telegram (${config.BOT_MODE}) and record every update from seized chats before acting on it`,
    "  4. take operator commands from control rooms and seized chats, every action on the record",
  ];
  for (const line of lines) c.out(line);
}

/** Runs `body` until SIGINT or SIGTERM, then lets it shut down cleanly. */
async function runUntilSignalled(
  c: CliContext,
  body: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const stop = (sig: string) => {
    c.logger.info({ signal: sig }, "stopping");
    controller.abort();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  await body(controller.signal);
}
