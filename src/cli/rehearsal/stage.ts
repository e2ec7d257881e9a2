import { join } from "node:path";
import type { Logger } from "pino";
import type { RunningSimulator } from "../../sim/index.ts";
import { createFileLogger, type LogFile } from "../logger.ts";
import type { Names } from "../transcript.ts";
import { type RunningBot, startBot } from "./bot.ts";
import { type CaseRecords, OFFICER_NAMES, openCase, openRecords, rehearsalCaseId } from "./case.ts";
import { type Cast, castWorld } from "./cast.ts";
import type { RehearsalChoice } from "./choice.ts";
import { type Script, scriptOf } from "./clock.ts";
import { namesOf } from "./follow.ts";
import { type MarkedAudit, markedAudit } from "./marks.ts";
import { type SimulatedTimers, simulatedTimers } from "./timers.ts";

/**
 * Setting the stage: the world cast in the simulator, the case recorded in
 * Redis, Warden's bot polling, the transcript's names and the script ready.
 * The steps keep one order, as the cast's calls do (`./cast.ts`), so the
 * same world gets the same ids and message numbers in every rehearsal.
 */
export interface Stage {
  sim: RunningSimulator;
  choice: RehearsalChoice;
  cast: Cast;
  records: CaseRecords;
  /** The audit log as the bot writes it, each entry placed among the simulator's calls. */
  audit: MarkedAudit;
  caseId: string;
  /** Alias → seized chat id. */
  aliases: Record<string, number>;
  bot: RunningBot;
  /** The simulated clock's timers the bot's send windows pass on. */
  timers: SimulatedTimers;
  names: Names;
  script: Script;
  /** Warden's own log, when it goes to a file of the rehearsal's rather than to `logger`. */
  log?: LogFile;
}

export async function setStage(
  sim: RunningSimulator,
  choice: RehearsalChoice,
  opts: {
    redisUrl?: string;
    redisConnectTimeoutMs?: number;
    auditKeyPath?: string;
    dataDir: string;
    rateLimits: boolean;
    logger: Logger;
    /** Write Warden's log to `<dataDir>/rehearsals/<case>.log` instead of to `logger`. */
    logToFile?: boolean;
    out(line: string): void;
  },
): Promise<Stage> {
  const { control } = sim;
  const clock = sim.sim.clock;
  const cast = await castWorld(control, {
    path: choice.worldPath,
    text: choice.worldText,
    section: choice.section,
  });
  const caseId = rehearsalCaseId(choice.section, clock.nowMs());
  const log =
    opts.logToFile && opts.logger.level !== "silent"
      ? createFileLogger(join(opts.dataDir, "rehearsals", `${caseId}.log`), {
          level: opts.logger.level,
          secrets: secretsOf(opts.redisUrl),
        })
      : undefined;
  const logger = log?.logger ?? opts.logger;
  try {
    const records = await openRecords({ ...opts, logger, nowMs: () => clock.nowMs() });
    try {
      if (records.notice) opts.out(records.notice);
      const audit = markedAudit(records.audit, () => sim.sim.calls.last());
      const aliases = await openCase({ redis: records.redis, audit: audit.log }, cast, {
        caseId,
        section: choice.section,
        scenarioId: choice.scenarioId,
      });
      const timers = simulatedTimers(() => clock.nowMs());
      const bot = await startBot({
        token: cast.bot.token,
        apiRoot: sim.apiRoot,
        redis: records.redis,
        audit: audit.log,
        logger,
        nowMs: () => clock.nowMs(),
        scenariosDir: choice.scenariosDir,
        dataDir: opts.dataDir,
        rateLimits: opts.rateLimits,
        sendClock: timers,
      });
      const names = await namesOf(control, {
        room: cast.room,
        aliases,
        officers: {
          [cast.operator]: OFFICER_NAMES.operator,
          [cast.supervisor]: OFFICER_NAMES.supervisor,
        },
      });
      const script = scriptOf(choice.worldText, choice.section, clock.nowMs());
      return {
        sim,
        choice,
        cast,
        records,
        audit,
        caseId,
        aliases,
        bot,
        timers,
        names,
        script,
        ...(log ? { log } : {}),
      };
    } catch (err) {
      await records.connection.close();
      throw err;
    }
  } catch (err) {
    await log?.close();
    throw err;
  }
}

/** The Redis password, the one secret a rehearsal's log could meet (its URL's is scrubbed anyway). */
function secretsOf(redisUrl: string | undefined): string[] {
  if (!redisUrl) return [];
  try {
    const password = decodeURIComponent(new URL(redisUrl).password);
    return password ? [password] : [];
  } catch {
    return [];
  }
}
