import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/record.ts";
import type { WardenBot } from "../bot/create.ts";
import type { RunState } from "../scenario/runtime/run-state.ts";
import { type RunningSimulator, type SimClient, startSimulator } from "../sim/index.ts";
import { settle, stopBot, stopBotQuietly } from "./rehearsal/bot.ts";
import { releaseSimulatedChats } from "./rehearsal/case.ts";
import { chooseRehearsal } from "./rehearsal/choice.ts";
import { advanceTo, nextEventMs } from "./rehearsal/clock.ts";
import { concludeRehearsal, type RehearsalResult } from "./rehearsal/finish.ts";
import { type Cursor, flush } from "./rehearsal/follow.ts";
import { playEntry } from "./rehearsal/members.ts";
import { approvePending, operatorTypes } from "./rehearsal/police.ts";
import { currentRun, runUntilDone } from "./rehearsal/run.ts";
import { type Stage, setStage } from "./rehearsal/stage.ts";
import { describeEnd } from "./transcript.ts";

export type { RehearsalResult };

/**
 * `warden rehearse`: a scenario, run end to end against the built-in
 * simulator. A world (a seized group whose members chat, offer and write to
 * the bot) is loaded; a case, its operator, supervisor and control room are
 * set up; Warden's real bot polls the simulator; the operator starts the
 * scenario by typing `/scenario start`, the supervisor approves what needs
 * approving, and the simulated clock jumps from one thing that happens to the
 * next (days in seconds with --fast). Everything is printed as it happens; at
 * the end the audit log is verified and exported.
 */

export interface RehearsalOptions {
  /** A scenario id (in scenariosDir) or the path of a scenario file; default: the world's first. */
  scenario?: string;
  worldPath?: string;
  scenariosDir?: string;
  /** Jump the clock without pausing; otherwise an hour of simulated time takes a real second. */
  fast?: boolean;
  redisUrl?: string;
  /** REDIS_CONNECT_TIMEOUT in milliseconds. */
  redisConnectTimeoutMs?: number;
  auditKeyPath?: string;
  /** WARDEN_DATA_DIR: the bundle goes to `<dataDir>/rehearsals/<case>/`. */
  dataDir: string;
  /** Telegram's flood limits in the simulator (and the bot's throttler against them). Default on. */
  rateLimits?: boolean;
  /** Stop after this much simulated time (default 30 days). */
  maxDays?: number;
  /** Print only the summary (benchmarks). */
  quiet?: boolean;
  logger: Logger;
  out(line: string): void;
}

export interface Rehearsal {
  sim: RunningSimulator;
  control: SimClient;
  redis: Redis;
  audit: AuditLog;
  warden: WardenBot;
  caseId: string;
  scenarioId: string;
  botId: number;
  room: number;
  /** World keys → ids. */
  users: Record<string, number>;
  chats: Record<string, number>;
  /** Alias → seized chat id. */
  aliases: Record<string, number>;
  operator: number;
  supervisor: number;
  /** Waits until the bot has handled everything the simulator queued. */
  settle(): Promise<void>;
  /** The operator types in the control room. */
  operatorSays(text: string): Promise<void>;
  /** Presses Approve on every approval request not answered yet; returns how many. */
  approvePending(): Promise<number>;
  /** Moves the simulated clock to `ms`, playing the timeline and script entries due on the way. */
  advanceTo(ms: number): Promise<void>;
  /** Ticks, approves and jumps the clock until the run on `alias` ends or nothing is left to happen. */
  runUntilDone(alias: string): Promise<RunState | undefined>;
  /** Prints what happened since the last call. */
  flush(): Promise<void>;
  /** Stops the bot, exports the audit bundle and verifies the log. */
  finish(alias: string): Promise<RehearsalResult>;
  close(): Promise<void>;
}

/** Sets the stage (`./rehearsal/stage.ts`) and wires the rehearsal's parts to it. */
export async function openRehearsal(opts: RehearsalOptions): Promise<Rehearsal> {
  const out = opts.quiet ? () => undefined : opts.out;
  const choice = await chooseRehearsal(opts);
  for (const line of choice.worldLines) out(line);
  const rateLimits = opts.rateLimits ?? true;
  const sim = await startSimulator({ rateLimits });
  try {
    const stage = await setStage(sim, choice, { ...opts, rateLimits, out });
    return wire(stage, {
      out,
      fast: opts.fast === true,
      maxDays: opts.maxDays ?? 30,
      dataDir: opts.dataDir,
    });
  } catch (err) {
    await sim.close();
    throw err;
  }
}

/** The rehearsal's operations, each a part of `./rehearsal/` given what it needs of the stage. */
function wire(
  stage: Stage,
  how: { out(line: string): void; fast: boolean; maxDays: number; dataDir: string },
): Rehearsal {
  const { sim, cast, records, caseId, aliases, bot, names, script } = stage;
  const { control } = sim;
  const clock = sim.sim.clock;
  const { redis, audit } = records;
  const { warden } = bot;
  const { out } = how;
  const botId = cast.bot.id;
  const scenarioId = stage.choice.scenarioId;
  const cursor: Cursor = { call: 0, seq: 0 };
  const pressed = new Set<number>();
  const controlRoom = { control, clock, botId, room: cast.room, out };
  const maxMs = clock.nowMs() + how.maxDays * 86_400_000;
  const rehearsal: Rehearsal = {
    sim,
    control,
    redis,
    audit,
    warden,
    caseId,
    scenarioId,
    botId,
    room: cast.room,
    users: cast.users,
    chats: cast.chats,
    aliases,
    operator: cast.operator,
    supervisor: cast.supervisor,
    settle: () => settle(control, botId, warden),
    flush: () => flush({ control, redis, caseId, botId, names, out }, cursor),
    approvePending: () => approvePending(controlRoom, cast.supervisor, pressed),
    advanceTo: (ms) =>
      advanceTo(ms, script, {
        control,
        clock,
        names,
        out,
        settle: rehearsal.settle,
        play: (entry) => playEntry(entry, { control, clock, botId, world: cast, names, out }),
      }),
    async operatorSays(text) {
      await operatorTypes(controlRoom, cast.operator, text);
      await rehearsal.settle();
    },
    runUntilDone: (alias) =>
      runUntilDone(
        {
          settle: rehearsal.settle,
          approvePending: rehearsal.approvePending,
          tick: () => warden.scenarios.tick(),
          flush: rehearsal.flush,
          run: () => currentRun(redis, caseId, aliases[alias]),
          nowMs: () => clock.nowMs(),
          nextEventMs: () =>
            nextEventMs(sim.sim.timeline, script, () => warden.scenarios.nextTimer(caseId)),
          advanceTo: rehearsal.advanceTo,
        },
        { maxMs, maxDays: how.maxDays, fast: how.fast, out },
      ),
    async finish(alias) {
      await rehearsal.settle();
      await rehearsal.flush();
      await stopBot(bot);
      const run = await currentRun(redis, caseId, aliases[alias]);
      return concludeRehearsal(records, { caseId, scenarioId, dataDir: how.dataDir, run });
    },
    async close() {
      await stopBotQuietly(bot);
      await audit.close().catch(() => undefined);
      await releaseSimulatedChats(redis, caseId, [cast.room, ...Object.values(aliases)]);
      await records.connection.close();
      await sim.close();
    },
  };
  return rehearsal;
}

/** The whole rehearsal: open, start the scenario as the operator, run it out, print and verify. */
export async function rehearseScenario(opts: RehearsalOptions): Promise<RehearsalResult> {
  const started = Date.now();
  const r = await openRehearsal(opts);
  try {
    const alias = Object.keys(r.aliases)[0] as string;
    opts.out(
      `Rehearsing ${r.scenarioId} on ${alias} (case ${r.caseId}), simulated time ${new Date(r.sim.sim.clock.nowMs()).toISOString()}`,
    );
    await r.operatorSays(`/scenario start ${r.scenarioId} ${alias}`);
    await r.runUntilDone(alias);
    const group = await r.control.chat(r.aliases[alias] as number);
    const result = await r.finish(alias);
    for (const line of describeEnd(alias, group, result)) opts.out(line);
    opts.out(`rehearsal took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    await r.close();
  }
}
