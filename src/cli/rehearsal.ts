import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/record.ts";
import type { WardenBot } from "../bot/create.ts";
import type { RunState } from "../scenario/runtime/run-state.ts";
import { type RunningSimulator, type SimClient, startSimulator } from "../sim/index.ts";
import { createStatusLine } from "./progress.ts";
import { type Settled, settle, stopBot, stopBotQuietly } from "./rehearsal/bot.ts";
import { releaseSimulatedChats } from "./rehearsal/case.ts";
import { chooseRehearsal } from "./rehearsal/choice.ts";
import { advanceTo, nextEventMs } from "./rehearsal/clock.ts";
import { concludeRehearsal, type RehearsalResult } from "./rehearsal/finish.ts";
import { follow } from "./rehearsal/follow.ts";
import { playEntry } from "./rehearsal/members.ts";
import {
  approvePending,
  operatorTypes,
  type PendingApproval,
  pendingApprovals,
  pressAsSupervisor,
} from "./rehearsal/police.ts";
import { currentRun, type RunLimits, runUntilDone } from "./rehearsal/run.ts";
import { type Stage, setStage } from "./rehearsal/stage.ts";
import { clockLabel, describeEnd, legend, type Memory, stamp } from "./transcript.ts";

export type { RehearsalResult };

/**
 * `warden rehearse`: a scenario, run end to end against the built-in
 * simulator. A world (a seized group whose members chat, offer and write to
 * the bot) is loaded; a case, its operator, supervisor and control room are
 * set up; Warden's real bot polls the simulator; the operator starts the
 * scenario by typing `/scenario start`, the supervisor approves what needs
 * approving, and the simulated clock jumps from one thing that happens to the
 * next (days in seconds with --fast) — a send the bot holds back for
 * Telegram's flood limits included, as those limits count on the simulated
 * clock on both sides. Everything is printed as it happens, in the order it
 * happened; Warden's own log lines go to a file of their own, and a long
 * rehearsal shows its progress on the terminal (stderr). At the end the
 * audit log is verified and exported.
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
  /**
   * `auto` (the default): the supervisor approves every request at once, so
   * the scenario plays through. `manual`: requests wait for `answer` (the
   * console, where the author presses the buttons as the supervisor).
   */
  approvals?: "auto" | "manual";
  /** How the clock moves when someone watches (see `RunLimits.pace`). */
  pace?: RunLimits["pace"];
  /** Told after every turn of the run (the console refreshes its views). */
  onTurn?(): void;
  /** Print only the summary (benchmarks). */
  quiet?: boolean;
  logger: Logger;
  /**
   * Write Warden's log to `<dataDir>/rehearsals/<case>.log` (at `logger`'s
   * level), so that no log line breaks into the transcript; otherwise it goes
   * to `logger`.
   */
  logToFile?: boolean;
  /** Where the progress line goes; drawn only on a terminal. Default stderr. */
  progress?: { isTTY?: boolean; columns?: number; write(text: string): unknown };
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
  /** The scenario library the bot loads the scenario from. */
  scenariosDir: string;
  botId: number;
  room: number;
  /** World keys → ids. */
  users: Record<string, number>;
  chats: Record<string, number>;
  /** Alias → seized chat id. */
  aliases: Record<string, number>;
  operator: number;
  supervisor: number;
  /**
   * Waits until the bot can do nothing more without the clock moving: it has
   * handled everything the simulator queued (`idle`), or what it still has to
   * do waits for a send window to pass on the simulated clock (`held`).
   */
  settle(): Promise<Settled>;
  /** The operator types in the control room. */
  operatorSays(text: string): Promise<void>;
  /** Presses Approve on every approval request not answered yet; returns how many (none with manual approvals). */
  approvePending(): Promise<number>;
  /** The requests for approval in the control room not answered yet. */
  pendingApprovals(): Promise<PendingApproval[]>;
  /** The supervisor presses a button (`data`) under the request in message `messageId`. */
  answer(messageId: number, data: string): Promise<void>;
  /** Moves the simulated clock to `ms`, playing the timeline and script entries due on the way. */
  advanceTo(ms: number): Promise<void>;
  /** Ticks, approves and jumps the clock until the run on `alias` ends or nothing is left to happen. */
  runUntilDone(alias: string): Promise<RunState | undefined>;
  /** Prints what happened since the last call. */
  flush(): Promise<void>;
  /** What the transcript remembers of messages (whose they were, what Warden wrote). */
  memory: Memory;
  /** Where Warden's log goes when it has a file of its own. */
  logPath?: string;
  /** How many lines that file has, and how many are warnings and errors. */
  logCounts?(): { lines: number; warnings: number; errors: number };
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
  // The bot's send windows pass on the simulated clock, so the simulator counts its limits there too.
  const sim = await startSimulator({ rateLimits, rateLimitClock: "simulated" });
  try {
    const status = createStatusLine(opts.progress ?? process.stderr);
    const shown = (line: string) => {
      status.hide();
      out(line);
    };
    const stage = await setStage(sim, choice, { ...opts, rateLimits, out: shown });
    return wire(stage, {
      out: shown,
      quiet: opts.quiet === true,
      status,
      fast: opts.fast === true,
      maxDays: opts.maxDays ?? 30,
      dataDir: opts.dataDir,
      manual: opts.approvals === "manual",
      ...(opts.pace ? { pace: opts.pace } : {}),
      ...(opts.onTurn ? { onTurn: opts.onTurn } : {}),
    });
  } catch (err) {
    await sim.close();
    throw err;
  }
}

/** The rehearsal's operations, each a part of `./rehearsal/` given what it needs of the stage. */
function wire(
  stage: Stage,
  how: {
    out(line: string): void;
    /** Nothing is printed: the transcript is not followed at all. */
    quiet: boolean;
    status: ReturnType<typeof createStatusLine>;
    fast: boolean;
    maxDays: number;
    dataDir: string;
    manual: boolean;
    pace?: RunLimits["pace"];
    onTurn?(): void;
  },
): Rehearsal {
  const { sim, cast, records, caseId, aliases, bot, names, script, audit, timers } = stage;
  const { control } = sim;
  const clock = sim.sim.clock;
  const { redis } = records;
  const { warden } = bot;
  const { out, status } = how;
  const botId = cast.bot.id;
  const scenarioId = stage.choice.scenarioId;
  const pressed = new Set<number>();
  let lookedForApprovals = -1;
  const follower = follow({ control, redis, caseId, botId, names, audit, out, quiet: how.quiet });
  const controlRoom = { control, clock, botId, room: cast.room, names, act: follower.act };
  const startMs = clock.nowMs();
  const maxMs = startMs + how.maxDays * 86_400_000;
  const held = () => warden.throttler?.waiting() ?? 0;

  // A scenario tick runs beside the rehearsal's loop: it may wait for a send window, which only
  // the loop's next move of the clock ends. Its failure is raised at the next settle.
  let ticking: Promise<void> | undefined;
  let tickFailure: { error: unknown } | undefined;
  const tick = () => {
    ticking ??= warden.scenarios
      .tick()
      .catch((error: unknown) => {
        tickFailure = { error };
      })
      .finally(() => {
        ticking = undefined;
      });
  };
  const activity = {
    pendingUpdates: () => sim.sim.world.bots.get(botId)?.updates.items.length ?? 0,
    ticking: () => ticking !== undefined,
    auditInFlight: audit.inFlight,
    progress: () => sim.sim.calls.last() + audit.written(),
  };

  const showProgress = () =>
    status.show(
      `rehearsing ${scenarioId}: simulated ${clockLabel(clock.now())} UTC, day ${Math.floor((clock.nowMs() - startMs) / 86_400_000) + 1} · ${follower.count()} member messages · ${sim.sim.calls.last()} Bot API calls · ${audit.written()} audit entries${held() > 0 ? ` · ${held()} sends waiting for Telegram's limits` : ""}`,
    );

  const rehearsal: Rehearsal = {
    sim,
    control,
    redis,
    audit: audit.log,
    warden,
    caseId,
    scenarioId,
    scenariosDir: stage.choice.scenariosDir,
    botId,
    room: cast.room,
    users: cast.users,
    chats: cast.chats,
    aliases,
    operator: cast.operator,
    supervisor: cast.supervisor,
    memory: follower.memory,
    ...(stage.log ? { logPath: stage.log.path, logCounts: stage.log.counts } : {}),
    async settle() {
      const settled = await settle(warden, activity);
      if (tickFailure) {
        const { error } = tickFailure;
        tickFailure = undefined;
        throw error;
      }
      return settled;
    },
    flush: () => follower.flush(),
    async approvePending() {
      if (how.manual) return 0;
      // A request for approval is a message the bot sent: without a new call there is none.
      const last = sim.sim.calls.last();
      if (last === lookedForApprovals) return 0;
      lookedForApprovals = last;
      return approvePending(controlRoom, cast.supervisor, pressed);
    },
    pendingApprovals: () => pendingApprovals(controlRoom),
    async answer(messageId, data) {
      const request = (await pendingApprovals(controlRoom)).find((r) => r.messageId === messageId);
      if (!request)
        throw new Error(`message ${messageId} is no request for approval waiting for an answer`);
      await pressAsSupervisor(controlRoom, cast.supervisor, request, data);
      await rehearsal.settle();
    },
    advanceTo: (ms) =>
      advanceTo(ms, script, {
        control,
        clock,
        flush: follower.flush,
        played: follower.played,
        fireTimers: () => void timers.fireDue(),
        settle: rehearsal.settle,
        play: (entry) =>
          playEntry(entry, { control, clock, botId, world: cast, names, act: follower.act }),
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
          tick,
          ticking: activity.ticking,
          held,
          flush: rehearsal.flush,
          run: () => currentRun(redis, caseId, aliases[alias]),
          nowMs: () => clock.nowMs(),
          nextEventMs: () =>
            nextEventMs(
              sim.sim.timeline,
              script,
              () => warden.scenarios.nextTimer(caseId),
              () => (held() > 0 ? timers.next() : undefined),
            ),
          advanceTo: rehearsal.advanceTo,
          onTurn: () => {
            showProgress();
            how.onTurn?.();
          },
        },
        {
          maxMs,
          maxDays: how.maxDays,
          fast: how.fast,
          out,
          ...(how.pace ? { pace: how.pace } : {}),
        },
      ),
    async finish(alias) {
      // Sends still held for a send window go out first: the clock moves on to each window's end.
      for (;;) {
        await rehearsal.settle();
        const next = timers.next();
        if ((held() === 0 && ticking === undefined) || next === undefined) break;
        await rehearsal.advanceTo(Math.max(next, clock.nowMs()));
      }
      await rehearsal.flush();
      await stopBot(bot);
      const run = await currentRun(redis, caseId, aliases[alias]);
      status.show(
        `rehearsing ${scenarioId}: exporting and verifying the audit log (${audit.written()} entries)…`,
      );
      try {
        return await concludeRehearsal(records, {
          caseId,
          scenarioId,
          dataDir: how.dataDir,
          run,
        });
      } finally {
        status.hide();
      }
    },
    async close() {
      status.hide();
      await stopBotQuietly(bot);
      await records.audit.close().catch(() => undefined);
      await releaseSimulatedChats(redis, caseId, [cast.room, ...Object.values(aliases)]);
      await records.connection.close();
      await sim.close();
      await stage.log?.close();
    },
  };
  return rehearsal;
}

/** The whole rehearsal: open, start the scenario as the operator, run it out, print and verify. */
export async function rehearseScenario(opts: RehearsalOptions): Promise<RehearsalResult> {
  const started = Date.now();
  const r = await openRehearsal({ logToFile: true, ...opts });
  try {
    const alias = Object.keys(r.aliases)[0] as string;
    opts.out(
      `Rehearsing ${r.scenarioId} on ${alias} (case ${r.caseId}), from simulated ${new Date(r.sim.sim.clock.nowMs()).toISOString().slice(0, 16).replace("T", " ")} UTC.`,
    );
    for (const line of legend(r.logPath ? { path: r.logPath } : "off")) opts.out(line);
    opts.out(
      `${stamp(r.sim.sim.clock.now())} The rehearsal sets up the case, as \`warden case create\`, \`operator add\`, \`chat add\` and \`control-room set\` would:`,
    );
    await r.flush();
    await r.operatorSays(`/scenario start ${r.scenarioId} ${alias}`);
    await r.runUntilDone(alias);
    const group = await r.control.chat(r.aliases[alias] as number);
    const result = await r.finish(alias);
    for (const line of describeEnd(alias, group, result, r.memory)) opts.out(line);
    const counts = r.logCounts?.();
    if (r.logPath && counts)
      opts.out(
        `Warden's log: ${r.logPath} (${count(counts.lines, "line")}: ${count(counts.warnings, "warning")}, ${count(counts.errors, "error")})`,
      );
    opts.out(`rehearsal took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    await r.close();
  }
}

/** `1 line`, `2 lines`, `no errors`. */
function count(n: number, what: string): string {
  return n === 0 ? `no ${what}s` : `${n} ${what}${n === 1 ? "" : "s"}`;
}
