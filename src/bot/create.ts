import type { CommandGroup } from "@grammyjs/commands";
import { type RunnerHandle, sequentialize } from "@grammyjs/runner";
import type { Bot, Context } from "grammy";
import type { BotCommandScope, Update } from "grammy/types";
import type { Logger } from "pino";
import { DEFAULT_APPROVAL_THRESHOLD, DEFAULT_APPROVAL_TTL_SECONDS } from "../actions/context.ts";
import { createRecorder, type Recorder } from "../collect/recorder.ts";
import { createScenarioLibrary } from "../scenario/definition/library.ts";
import { createCaseLeases } from "../scenario/runtime/case-lease.ts";
import { createScenarioEngine, type ScenarioEngine } from "../scenario/runtime/engine.ts";
import { syntheticOf } from "../scenario/runtime/events.ts";
import { listCases, listChats, listRoles } from "../store/cases.ts";
import { type ReplicaWaitOptions, replicaBarrierOf, waitForReplicasOf } from "../store/replicas.ts";
import { apiRetry, type CreateBotOptions, createBot } from "./bot.ts";
import type { BotDeps, FeatureDeps } from "./deps.ts";
import { installFeatures } from "./feature.ts";
import { albumGuardFeature } from "./features/album-guard.ts";
import { approvalsFeature } from "./features/approvals.ts";
import { commandsFeature, runApprovedCommand } from "./features/commands.ts";
import { lifecycleFeature } from "./features/lifecycle.ts";
import { type InboxReplicas, scenarioFeature, scenarioInbox } from "./features/scenario.ts";
import { topicGuardFeature } from "./features/topic-guard.ts";
import { tradeGuardFeature } from "./features/trade-guard.ts";
import { type SendThrottler, sendThrottler } from "./throttle.ts";
import { createSecuredSource, runSecured, type SecuredSourceOptions } from "./update-source.ts";

/**
 * Warden's bot, whole. Every update passes, in this order:
 *   1. sequentialize: one update at a time per chat, so commands and the
 *      updates they act on are seen in order;
 *   2. the recorder (src/collect): persisted before anything else looks at it
 *      (while scenarios run, the update is also kept in their inbox until
 *      handled, so a crash cannot make a trigger miss it);
 *   3. lifecycle: the bot's own status, join requests, supergroup migration;
 *   4. album guard: removes items of an album removed before (src/collect/albums.ts);
 *      trade guard: in a chat frozen in `trade` mode, removes offers and forwards;
 *      topic guard: in a locked-down forum, closes a topic seen open;
 *   5. commands: access control, then the takeover actions (src/actions);
 *   6. approvals: supervisors answering destructive requests;
 *   7. scenarios: triggers, conversations and approve steps (src/scenario).
 */

/** The updates Warden needs; chat_member and message_reaction are only sent when asked for. */
export const ALLOWED_UPDATES = [
  "message",
  "edited_message",
  "callback_query",
  "my_chat_member",
  "chat_member",
  "chat_join_request",
  "message_reaction",
] as const;

export interface WardenBot {
  bot: Bot;
  recorder: Recorder;
  commands: CommandGroup<Context>;
  /** Lists the commands to each operator in their case's chats, and to nobody else. */
  publishCommands(): Promise<void>;
  scenarios: ScenarioEngine;
  /** Updates being handled right now (rehearsals wait for 0 before moving the clock). */
  busy(): number;
  /** The send throttler, when sends are throttled (a rehearsal reads what it holds back). */
  throttler?: SendThrottler;
  /** Resolves once no update is being handled (a stopping process waits for it, within its limit). */
  drained(): Promise<void>;
  /** After a restart: hands interrupted updates to the bot again, then moves every run on. */
  recoverScenarios(): Promise<void>;
  /** Hands updates a previous process did not finish to the bot again (once; before polling). */
  replayInterrupted(): Promise<void>;
  /**
   * Resolves once what Redis acknowledged so far is also held by the replicas
   * `replicas` asks for; every confirmation to Telegram waits for it.
   */
  beforeConfirm(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateWardenBotOptions extends BotDeps {
  token: string;
  apiRoot: string;
  logger: Logger;
  throttle?: CreateBotOptions["throttle"];
  /** WARDEN_DATA_DIR: media files are downloaded under `<dataDir>/evidence/<case>/` when a case keeps `files`. */
  dataDir?: string;
  /** Where operators' scenarios are; defaults to the shipped `scenarios/`. */
  scenariosDir?: string;
  /** How often the scenario engine moves runs on (ms); 0 leaves it to the caller (rehearsals, tests). */
  scenarioTickMs?: number;
  /** REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT: replicas that must hold an update before it is confirmed. */
  replicas?: ReplicaWaitOptions;
  /**
   * One of several processes on one Redis (`warden start`): this process's id
   * and how to tell whether another is alive (src/store/process.ts). Scenario
   * runs are then moved on under case leases, and the scenario inbox replays
   * only the updates of processes that are gone, whenever it finds them.
   */
  replica?: InboxReplicas;
  /**
   * Updates come from a queue that hands back whatever was not finished (the
   * webhook's intake, src/bot/intake/queue.ts): the scenario inbox would only
   * hand an interrupted update to the bot a second time, beside the queue's
   * own redelivery, so nothing is kept in it. Entries earlier polling
   * processes left are still replayed.
   */
  redelivers?: boolean;
}

export function createWardenBot(opts: CreateWardenBotOptions): WardenBot {
  const replicaWait = opts.replicas ?? { replicas: 0, timeoutMs: 0 };
  const replicas = replicaBarrierOf(opts.redis, replicaWait);
  // Every Telegram call of an action waits for its intent to reach the replicas, as confirmations do.
  const replicated = waitForReplicasOf(opts.redis, replicaWait);
  const bot = createBot({
    token: opts.token,
    apiRoot: opts.apiRoot,
    logger: opts.logger,
    throttle: false,
  });
  // One send throttler, shared with conversations (whose API client does not inherit bot.api's transformers).
  const throttler = opts.throttle === false ? undefined : sendThrottler(opts.throttle);
  if (throttler) bot.api.config.use(throttler);
  const leases = opts.replica
    ? createCaseLeases({ redis: opts.redis, holder: opts.replica.id, logger: opts.logger })
    : undefined;
  const scenarios = createScenarioEngine({
    ...(leases ? { leases } : {}),
    api: bot.api,
    redis: opts.redis,
    audit: opts.audit,
    logger: opts.logger,
    now: opts.now ?? Date.now,
    botId: () => (bot.isInited() ? bot.botInfo.id : undefined),
    library: createScenarioLibrary(opts.scenariosDir),
    ...(opts.approvalThreshold !== undefined ? { approvalThreshold: opts.approvalThreshold } : {}),
    ...(opts.approvalTtlSeconds !== undefined
      ? { approvalTtlSeconds: opts.approvalTtlSeconds }
      : {}),
    deliver: (update) => bot.handleUpdate(update as unknown as Update),
    ...(replicated ? { replicated } : {}),
  });
  let inFlight = 0;
  const whenDrained: Array<() => void> = [];
  const handleUpdate = bot.handleUpdate.bind(bot);
  bot.handleUpdate = async (...args) => {
    inFlight++;
    try {
      return await handleUpdate(...args);
    } finally {
      inFlight--;
      if (inFlight === 0) for (const resolve of whenDrained.splice(0)) resolve();
    }
  };
  const deps: FeatureDeps = {
    scenarios,
    ...opts,
    api: bot.api,
    now: opts.now ?? Date.now,
    get botId() {
      return bot.isInited() ? bot.botInfo.id : undefined;
    },
    approvalThreshold: opts.approvalThreshold ?? DEFAULT_APPROVAL_THRESHOLD,
    approvalTtlSeconds: opts.approvalTtlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS,
    ...(replicated ? { replicated } : {}),
  };
  const recorder = createRecorder({
    redis: opts.redis,
    audit: opts.audit,
    logger: opts.logger,
    ...(opts.now ? { now: opts.now } : {}),
    api: bot.api,
    ...(opts.dataDir ? { dataDir: opts.dataDir, download: fileDownloader(opts) } : {}),
  });
  const { feature: commands, group } = commandsFeature(deps);

  /** Lists the commands to each role holder of a case, in one of the case's chats. */
  async function publishIn(caseId: string, chatId: number): Promise<void> {
    const list = group.commands.map((c) => ({
      command: String(c.name),
      description: c.description,
    }));
    for (const grant of await listRoles(opts.redis, caseId)) {
      const scope: BotCommandScope = {
        type: "chat_member",
        chat_id: chatId,
        user_id: grant.userId,
      };
      await bot.api.setMyCommands(list, { scope }).catch((err: Error) => {
        opts.logger.warn(
          { case: caseId, chat: chatId, err: err.message },
          "could not list commands for an operator",
        );
      });
    }
  }

  async function publishCommands(): Promise<void> {
    // Nobody sees the commands by default: a member who types "/" learns nothing.
    await bot.api.deleteMyCommands();
    for (const record of await listCases(opts.redis)) {
      if (record.status !== "open") continue;
      const chats = [
        ...(record.controlRoom !== undefined ? [record.controlRoom] : []),
        ...(await listChats(opts.redis, record.id)).map((c) => c.chatId),
      ];
      for (const chatId of chats) await publishIn(record.id, chatId);
    }
  }
  deps.onChatSeized = publishIn;

  bot.use(
    sequentialize(
      (ctx: Context) =>
        ctx.chat?.id.toString() ??
        ctx.from?.id.toString() ??
        syntheticOf(ctx.update)?.chat_id.toString(),
    ),
  );
  // Updates scenarios act on are kept until handled, so a crash cannot lose one (see scenarioInbox).
  const inbox = scenarioInbox(opts.redis, opts.logger, opts.replica);
  if (!opts.redelivers) bot.use(inbox.middleware);
  bot.use(recorder.middleware);
  // Each update enters only the features that want it (src/bot/feature.ts), in this order.
  bot.use(
    installFeatures([
      lifecycleFeature(deps),
      albumGuardFeature(deps),
      tradeGuardFeature(deps),
      topicGuardFeature(deps),
      commands,
      approvalsFeature(deps, runApprovedCommand(deps)),
      scenarioFeature(deps, {
        engine: scenarios,
        apiTransformers: [apiRetry(), ...(throttler ? [throttler] : [])],
      }),
    ]),
  );
  const tickMs = opts.scenarioTickMs ?? 1000;
  let recovered: Promise<unknown> | undefined;
  const recover = () => {
    // Handling needs the bot's own identity; until then there is nothing to recover with.
    if (!bot.isInited()) return Promise.resolve();
    if (opts.replica) {
      // Beside other processes, any of which may die: what the dead left is looked for every tick.
      recovered ??= inbox
        .replay((update) => bot.handleUpdate(update))
        .finally(() => {
          recovered = undefined;
        });
      return recovered;
    }
    recovered ??= inbox.replay((update) => bot.handleUpdate(update));
    return recovered;
  };
  let ticking: Promise<void> | undefined;
  const ticker =
    tickMs > 0
      ? setInterval(() => {
          ticking ??= recover()
            .then(() => scenarios.tick())
            .catch((err: Error) => opts.logger.error({ err: err.message }, "scenario tick failed"))
            .finally(() => {
              ticking = undefined;
            });
        }, tickMs)
      : undefined;
  ticker?.unref();

  return {
    bot,
    recorder,
    commands: group,
    publishCommands,
    scenarios,
    busy: () => inFlight + scenarios.busy(),
    ...(throttler ? { throttler } : {}),
    drained: () =>
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            whenDrained.push(resolve);
          }),
    async recoverScenarios() {
      await recover();
      await scenarios.tick();
    },
    async replayInterrupted() {
      await recover();
    },
    beforeConfirm: () => replicas.sync(),
    async close() {
      if (ticker) clearInterval(ticker);
      await ticking;
      await recorder.close();
      // Another process takes the cases' runs over at once rather than when the leases lapse.
      await leases?.release();
    },
  };
}

/**
 * Fetches a file's bytes from the Bot API's file endpoint. The URL holds the
 * token, so errors name only the HTTP status.
 */
function fileDownloader(opts: { apiRoot: string; token: string }) {
  return async (filePath: string): Promise<AsyncIterable<Uint8Array>> => {
    const response = await fetch(`${opts.apiRoot}/file/bot${opts.token}/${filePath}`).catch(() => {
      throw new Error("could not reach the Bot API's file endpoint");
    });
    if (!response.ok || !response.body)
      throw new Error(`the Bot API's file endpoint answered HTTP ${response.status}`);
    return response.body as unknown as AsyncIterable<Uint8Array>;
  };
}

/**
 * Long polling with @grammyjs/runner: one update at a time per chat (see
 * `sequentialize` above), many chats at once, and Warden's own update source
 * (src/bot/update-source.ts), which confirms an update to Telegram only once
 * the recorder has persisted it. The runner's console output is not used
 * (it would print request URLs, which hold the bot token); failed polls are
 * logged through the scrubbing logger instead.
 */
export function startPolling(
  warden: WardenBot,
  logger: Logger,
  opts: PollingOptions = {},
): RunnerHandle {
  logPollFailures(warden, logger);
  return runPolling(warden, logger, opts);
}

export interface PollingOptions
  extends Pick<SecuredSourceOptions, "startOffset" | "mayPoll" | "beforePoll"> {
  timeoutSeconds?: number;
  maxUnsecured?: number;
}

/** Logs failed polls through the scrubbing logger, at most every tenth of a run of failures (install once). */
export function logPollFailures(warden: WardenBot, logger: Logger): void {
  let failures = 0;
  warden.bot.api.config.use(async (prev, method, payload, signal) => {
    if (method !== "getUpdates") return prev(method, payload, signal);
    try {
      const result = await prev(method, payload, signal);
      if (failures > 0) logger.info({ after: failures }, "polling Telegram again");
      failures = 0;
      return result;
    } catch (err) {
      if (!signal?.aborted && failures++ % 10 === 0) {
        logger.warn(
          { err: (err as Error).message, failures },
          "could not poll Telegram for updates; retrying",
        );
      }
      throw err;
    }
  });
}

/** Polls with a new secured source and runner (see `startPolling`); stop the runner to end it. */
export function runPolling(
  warden: WardenBot,
  logger: Logger,
  opts: PollingOptions = {},
): RunnerHandle {
  const bot = warden.bot;
  const source = createSecuredSource({
    api: bot.api,
    allowedUpdates: ALLOWED_UPDATES,
    timeoutSeconds: opts.timeoutSeconds ?? 30,
    logger,
    ...(opts.maxUnsecured !== undefined ? { maxUnsecured: opts.maxUnsecured } : {}),
    // An offset moves past updates only once the replicas asked for hold them.
    beforeConfirm: () => warden.beforeConfirm(),
    ...(opts.startOffset !== undefined ? { startOffset: opts.startOffset } : {}),
    ...(opts.mayPoll ? { mayPoll: opts.mayPoll } : {}),
    ...(opts.beforePoll ? { beforePoll: opts.beforePoll } : {}),
    // Updates whose handling a crash cut short go first, before anything newer is fetched.
    init: async () => {
      await bot.init();
      await warden.replayInterrupted();
    },
  });
  const unsubscribe = warden.recorder.onRecorded((id) => source.recorded(id));
  const runner = runSecured(bot, source, logger);
  const stop = runner.stop;
  runner.stop = async () => {
    unsubscribe();
    await stop();
  };
  return runner;
}
