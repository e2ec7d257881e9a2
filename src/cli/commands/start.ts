import { Command } from "commander";
import { signerForRun } from "../../audit/checkpoint.ts";
import { closeDanglingIntents } from "../../audit/intents.ts";
import { createAuditLog } from "../../audit/record.ts";
import { createWardenBot, startPolling } from "../../bot/create.ts";
import { listCases } from "../../store/cases.ts";
import { connectRedis } from "../../store/redis.ts";
import { type CliContext, CliError } from "../context.ts";
import { rehearseScenario } from "../rehearsal.ts";

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
  if (config.BOT_MODE === "webhook") {
    throw new CliError("BOT_MODE=webhook is not available yet: use BOT_MODE=polling");
  }
  // Refuses without a key: a live log must be signed from its first checkpoint.
  const { signer } = signerForRun({ keyPath: config.WARDEN_AUDIT_KEY, live: true });
  // Stops here, with one line, on a Redis that is not there or refuses the password or database.
  const connection = await connectRedis({
    url: config.REDIS_URL,
    logger,
    connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT * 1000,
  });
  const audit = createAuditLog({ redis: connection.redis, signer });
  const warden = createWardenBot({
    token: config.BOT_TOKEN as string,
    apiRoot: config.TELEGRAM_API_ROOT,
    redis: connection.redis,
    audit,
    logger,
    dataDir: config.WARDEN_DATA_DIR,
  });
  try {
    const me = await warden.bot.api.getMe();
    warden.bot.botInfo = me;
    const cases = await listCases(connection.redis);
    // A crash may have left actions whose outcome nobody saw: close them as unknown and tell the operators.
    for (const record of cases) {
      const dangling = await closeDanglingIntents(audit, record.id);
      if (dangling.length === 0) continue;
      const lines = dangling.map(
        (d) =>
          `#${d.intentSeq} ${d.intent?.op ?? "?"} ${String(d.intent?.params?.step ?? "")} on ${d.intent?.target?.alias ?? "?"}`,
      );
      logger.warn(
        { case: record.id, intents: dangling.map((d) => d.intentSeq) },
        "closed actions interrupted by a crash as unknown",
      );
      if (record.controlRoom !== undefined) {
        await warden.bot.api
          .sendMessage(
            record.controlRoom,
            `⚠️ Warden restarted. These actions were interrupted and may or may not have happened; check the chat:\n${lines.join("\n")}`,
          )
          .catch(() => undefined);
      }
    }
    await warden.publishCommands();
    logger.info(
      {
        bot: me.username,
        redis: connection.description,
        cases: cases.length,
        api: config.TELEGRAM_API_ROOT,
      },
      "Warden is running live",
    );
    const runner = startPolling(warden, logger);
    // Should Redis later refuse the connection (a reconnect to a server without the
    // database, or with another password), the bot stops rather than run without a store.
    const refused = connection.refused.then((err) => {
      void runner.stop();
      throw err;
    });
    await runUntilSignalled(c, async (signal) => {
      signal.addEventListener("abort", () => void runner.stop());
      await Promise.race([runner.task(), refused]);
    });
  } finally {
    await warden.close();
    await audit.close();
    await connection.close();
  }
}

async function rehearse(c: CliContext): Promise<void> {
  const { config } = c;
  c.out(
    "Warden rehearsal: no BOT_TOKEN is set, so Warden rehearses scenarios/fireworks-takeover.yaml against its built-in Telegram simulator.",
  );
  c.out(
    `Redis: ${config.REDIS_URL ? "REDIS_URL" : "the embedded in-process store (nothing is kept after this run)"}`,
  );
  const { ok, verified } = await rehearseScenario({
    scenario: "fireworks-takeover",
    fast: true,
    dataDir: config.WARDEN_DATA_DIR,
    ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL } : {}),
    redisConnectTimeoutMs: config.REDIS_CONNECT_TIMEOUT * 1000,
    ...(config.WARDEN_AUDIT_KEY ? { auditKeyPath: config.WARDEN_AUDIT_KEY } : {}),
    logger: c.logger,
    out: c.out,
  });
  c.out("");
  c.out(
    "To run live: set BOT_TOKEN, REDIS_URL and WARDEN_AUDIT_KEY (see .env.example) and run npm start again.",
  );
  if (!verified) throw new CliError("the rehearsal's audit log did not verify", 1);
  if (!ok) throw new CliError("the rehearsal's scenario did not run to its end (see above)", 1);
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
