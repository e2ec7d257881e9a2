import { hostname } from "node:os";
import { Command } from "commander";
import { GrammyError } from "grammy";
import { signerForRun } from "../../audit/checkpoint.ts";
import { closeDanglingIntents } from "../../audit/intents.ts";
import { claimAuditKey, keyFingerprint } from "../../audit/key-claim.ts";
import { type AuditLog, createAuditLog } from "../../audit/record.ts";
import { createWardenBot, type WardenBot } from "../../bot/create.ts";
import { type Intake, redisAnswers, webhookIntake, within } from "../../bot/intake/intake.ts";
import { pollingIntake, storedOffset } from "../../bot/intake/polling.ts";
import { createHealthServer, type HealthServer } from "../../bot/intake/webhook-server.ts";
import { listCases } from "../../store/cases.ts";
import { repairedAnything, repairGlobalIndexes } from "../../store/global-index.ts";
import { replicaKeys } from "../../store/keys.ts";
import { isAlive, keepAlive, type Liveness, newProcessId } from "../../store/process.ts";
import { connectRedis, type RedisConnection } from "../../store/redis.ts";
import { waitForReplicasOf } from "../../store/replicas.ts";
import { replicaWaitOf } from "../config.ts";
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
  // Refuses without a key: a live log must be signed from its first checkpoint.
  const { signer } = signerForRun({ keyPath: config.WARDEN_AUDIT_KEY, live: true });
  // Stops here, with one line, on a Redis that is not there or refuses the password or database.
  const connection = await connectRedis({
    url: config.REDIS_URL,
    mode: config.REDIS_MODE,
    logger,
    connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT * 1000,
  });
  const { redis } = connection;
  // Every process on this Redis signs with one key; a second key is refused before anything is written.
  const fingerprint = keyFingerprint(signer);
  const claim = await claimAuditKey(redis, fingerprint);
  if (!claim.ok) {
    connection.redis.disconnect();
    throw new CliError(
      `WARDEN_AUDIT_KEY is not the audit signing key the other Warden processes on this Redis use (its fingerprint starts ${fingerprint.slice(0, 16)}, theirs ${claim.stored.slice(0, 16)}): start this process with their key; to change keys on purpose, stop every process and delete ${replicaKeys.auditKey()} first`,
    );
  }
  // This process among the others on the same Redis: its id, kept alive while it runs.
  const id = newProcessId();
  const alive = (other: string) => isAlive(redis, other);
  const liveness = await keepAlive(redis, id, {
    host: hostname(),
    pid: process.pid,
    mode: config.BOT_MODE,
  });
  const replicas = replicaWaitOf(config);
  const replicated = waitForReplicasOf(redis, replicas);
  const audit = createAuditLog({
    redis,
    signer,
    writer: id,
    ...(replicated ? { replicated } : {}),
  });
  const warden = createWardenBot({
    token: config.BOT_TOKEN as string,
    apiRoot: config.TELEGRAM_API_ROOT,
    redis,
    audit,
    logger,
    dataDir: config.WARDEN_DATA_DIR,
    replicas,
    replica: {
      id,
      alive,
      // Polling: what a dead leader left at or above the stored offset, Telegram hands out again.
      ...(config.BOT_MODE === "polling" ? { redeliveredFrom: () => storedOffset(redis) } : {}),
    },
    redelivers: config.BOT_MODE === "webhook",
  });
  let intake: Intake | undefined;
  let stopSignal: StopSignal | undefined;
  let health: HealthServer | undefined;
  let sweep: NodeJS.Timeout | undefined;
  try {
    const me = await warden.bot.api.getMe();
    warden.bot.botInfo = me;
    // A change that writes a case and a global index is two steps (two slots of a cluster): put
    // right what a crash between them left, before any update is handled.
    const repairs = await repairGlobalIndexes(redis);
    if (repairedAnything(repairs))
      logger.warn({ ...repairs }, "repaired the global indexes after an interrupted change");
    const cases = await listCases(redis);
    // A crash may have left actions whose outcome nobody saw: close them as unknown and tell the
    // operators — only those of processes that are gone, never a live replica's.
    const repair = () => closeIntentsOfTheDead(c, warden, audit, alive);
    await repair();
    sweep = setInterval(() => {
      repair().catch((err: Error) =>
        logger.warn({ err: err.message }, "could not look for interrupted actions"),
      );
    }, SWEEP_MS);
    sweep.unref();
    await warden.publishCommands();
    stopSignal = onStopSignal(c);
    intake =
      config.BOT_MODE === "webhook"
        ? await webhookIntake(warden, {
            url: config.WEBHOOK_URL as string,
            secret: config.WEBHOOK_SECRET as string,
            host: config.WEBHOOK_HOST,
            port: config.WEBHOOK_PORT,
            token: config.BOT_TOKEN as string,
            redis,
            logger,
            id,
          }).catch((err: unknown) => {
            if (err instanceof GrammyError && err.method === "setWebhook" && err.error_code === 400)
              throw new CliError(
                `Telegram refused the webhook (${err.description}): check WEBHOOK_URL (https, on port 443, 80, 88 or 8443)`,
              );
            throw err;
          })
        : pollingIntake(warden, logger, { id, redis });
    const taking = intake;
    if (config.BOT_MODE === "polling" && config.HEALTH_PORT !== undefined) {
      health = createHealthServer({
        host: config.HEALTH_HOST,
        port: config.HEALTH_PORT,
        status: () => ({ mode: "polling", role: taking.role(), process: id }),
        storeReachable: () => redisAnswers(redis),
      });
      await health.listen();
    }
    logger.info(
      {
        bot: me.username,
        mode: intake.mode,
        process: id,
        redis: connection.description,
        cases: cases.length,
        api: config.TELEGRAM_API_ROOT,
      },
      "Warden is running live",
    );
    // Runs until SIGTERM or SIGINT; or until taking updates fails for good; or until Redis, on a
    // reconnect, refuses the connection (a server without the database, another password): then
    // the bot stops rather than run without a store.
    await Promise.race([
      stopSignal.received,
      intake.done,
      connection.refused.then((err) => Promise.reject(err)),
    ]);
  } finally {
    stopSignal?.dispose();
    if (sweep) clearInterval(sweep);
    await shutDown(c, { intake, warden, audit, connection, health, liveness });
  }
}

/** How often a running process looks for actions interrupted in processes that died beside it. */
const SWEEP_MS = 15_000;

/** Closes the dangling intents of processes that are gone, in every case, and tells the operators. */
async function closeIntentsOfTheDead(
  c: CliContext,
  warden: WardenBot,
  audit: AuditLog,
  alive: (id: string) => Promise<boolean>,
): Promise<void> {
  const { logger } = c;
  for (const record of await listCases(audit.redis)) {
    const dangling = await closeDanglingIntents(audit, record.id, alive);
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
}

interface StopSignal {
  /** Resolves with the signal's name. */
  received: Promise<string>;
  dispose(): void;
}

/** SIGTERM or SIGINT: the process stops taking updates and shuts down cleanly (see shutDown). */
function onStopSignal(c: CliContext): StopSignal {
  let listener: (sig: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<string>((resolve) => {
    listener = (sig) => {
      c.logger.info({ signal: sig }, "stopping");
      resolve(sig);
    };
  });
  process.once("SIGINT", listener);
  process.once("SIGTERM", listener);
  return {
    received,
    dispose() {
      process.off("SIGINT", listener);
      process.off("SIGTERM", listener);
    },
  };
}

/**
 * Stops a live bot within SHUTDOWN_TIMEOUT, in this order:
 *   1. stop taking updates (polling: no further fetch; webhook: the listener refuses new requests
 *      and closes) and let those in flight finish — most of the time limit is theirs;
 *   2. flush the recorder (its batched `collect` entries) and stop the scenario ticker;
 *   3. flush the audit log (and sign its last checkpoint);
 *   4. give up this process's leases (polling or intake partitions; the scenario leases went with
 *      the recorder's step), so another process takes over what is left at once, then its
 *      liveness, so what it left open counts as a dead process's;
 *   5. close Redis.
 * Each step needs the ones before it: a flush after the last update, the audit log after what
 * writes to it, Redis after everything. Whatever the time limit cuts short is safe: an update not
 * persisted was not confirmed to Telegram (polling) or is still in the intake queue (webhook), and
 * the recorder's queue of `collect` entries is in Redis; the next start takes them over.
 */
async function shutDown(
  c: CliContext,
  parts: {
    intake: Intake | undefined;
    warden: WardenBot;
    audit: AuditLog;
    connection: RedisConnection;
    health?: HealthServer | undefined;
    liveness: Liveness;
  },
): Promise<void> {
  const { logger } = c;
  const { intake, warden, audit, connection, health, liveness } = parts;
  const limitMs = c.config.SHUTDOWN_TIMEOUT * 1000;
  const started = Date.now();
  const deadline = started + limitMs;
  const cut: string[] = [];
  const step = async (what: string, work: () => Promise<unknown>, until = deadline) => {
    const done = await within(
      work().catch((err: Error) => {
        logger.warn({ err: err.message }, `stopping: could not finish ${what}`);
      }),
      until,
    );
    if (!done) cut.push(what);
  };
  // Readiness turns false at once: a load balancer or an orchestrator stops counting on it.
  if (health) await step("closing the health listener", () => health.close());
  if (intake) {
    const finished = await within(
      intake.stop(started + limitMs * 0.8).then((all) => {
        if (!all) cut.push("the updates in flight");
      }),
      deadline,
    );
    if (!finished) cut.push("stopping the intake");
  }
  await step("the recorder's flush", () => warden.close());
  await step("the audit log's flush", () => audit.close());
  if (intake) await step("giving up the intake leases", () => intake.release());
  // Gone from now on: another process closes what this one left open (nothing, if all went well).
  await step("giving up this process's liveness", () => liveness.stop());
  await step("closing Redis", () => connection.close());
  if (connection.redis.status !== "end") connection.redis.disconnect();
  if (cut.length > 0) {
    logger.warn(
      { unfinished: cut, limit_s: c.config.SHUTDOWN_TIMEOUT },
      "stopped at the time limit: what was left is kept (Telegram or the intake queue still holds the updates not persisted) and the next start takes it over",
    );
  } else {
    logger.info({ ms: Date.now() - started }, "stopped");
  }
  // Whatever is still running (a handler cut short, waiting on Telegram) must not keep the process.
  setTimeout(() => process.exit(), 1000).unref();
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
    ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL, redisMode: config.REDIS_MODE } : {}),
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
