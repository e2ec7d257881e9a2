import type { Logger } from "pino";
import type { RunningSimulator } from "../../sim/index.ts";
import type { Names } from "../transcript.ts";
import { type RunningBot, startBot } from "./bot.ts";
import { type CaseRecords, openCase, openRecords } from "./case.ts";
import { type Cast, castWorld } from "./cast.ts";
import type { RehearsalChoice } from "./choice.ts";
import { type Script, scriptOf } from "./clock.ts";
import { namesOf } from "./follow.ts";

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
  caseId: string;
  /** Alias → seized chat id. */
  aliases: Record<string, number>;
  bot: RunningBot;
  names: Names;
  script: Script;
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
  const records = await openRecords(opts);
  try {
    if (records.notice) opts.out(records.notice);
    const { caseId, aliases } = await openCase(records, cast, {
      section: choice.section,
      scenarioId: choice.scenarioId,
      nowMs: clock.nowMs(),
    });
    const bot = await startBot({
      token: cast.bot.token,
      apiRoot: sim.apiRoot,
      redis: records.redis,
      audit: records.audit,
      logger: opts.logger,
      nowMs: () => clock.nowMs(),
      scenariosDir: choice.scenariosDir,
      dataDir: opts.dataDir,
      rateLimits: opts.rateLimits,
    });
    const names = await namesOf(control, { room: cast.room, aliases });
    const script = scriptOf(choice.worldText, choice.section, clock.nowMs());
    return { sim, choice, cast, records, caseId, aliases, bot, names, script };
  } catch (err) {
    await records.connection.close();
    throw err;
  }
}
