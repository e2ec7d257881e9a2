import { readFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { addChat, addRole, createCase, setControlRoom } from "../actions/registry.ts";
import { exportBundle } from "../audit/bundle.ts";
import { type Signer, signerForRun, verifierOf } from "../audit/checkpoint.ts";
import { entriesSince } from "../audit/recent.ts";
import { type AuditLog, createAuditLog } from "../audit/record.ts";
import { verifyCaseLog } from "../audit/verify-case.ts";
import { createWardenBot, startPolling, type WardenBot } from "../bot/create.ts";
import { createScenarioLibrary, SHIPPED_SCENARIOS } from "../scenario/definition/library.ts";
import { loadScenarioFile } from "../scenario/definition/load.ts";
import { globalScenarioKeys, scenarioKeys } from "../scenario/runtime/keys.ts";
import { type RunState, readRun } from "../scenario/runtime/run-state.ts";
import { type RunningSimulator, type SimClient, startSimulator } from "../sim/index.ts";
import { keys } from "../store/keys.ts";
import { connectRedis, type RedisConnection } from "../store/redis.ts";
import { buttonsOf } from "./rehearsal/keyboard.ts";
import {
  type RehearsalSection,
  readRehearsalSection,
  type ScriptEntry,
  worldFor,
} from "./rehearsal-world.ts";
import {
  auditLine,
  describeCall,
  describeEnd,
  describeEntry,
  describePlayed,
  type Names,
  stamp,
} from "./transcript.ts";

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

export interface RehearsalResult {
  ok: boolean;
  caseId: string;
  scenarioId: string;
  runStatus: RunState["status"] | "not started";
  verified: boolean;
  entries: number;
  /** Steps or actions of the scenario that failed, one line each. */
  failures: string[];
  missingRights: string[];
  exportDir?: string;
  exportFiles: string[];
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

const SCENARIO_EXTENSIONS = new Set([".yaml", ".yml", ".ts"]);

/** Resolves the scenario argument to a library directory and an id. */
async function resolveScenario(
  arg: string | undefined,
  fallbackDir: string,
): Promise<{ dir: string; id?: string }> {
  if (arg && SCENARIO_EXTENSIONS.has(extname(arg))) {
    const loaded = await loadScenarioFile(arg);
    return { dir: dirname(resolve(arg)), id: loaded.scenario.id };
  }
  return { dir: fallbackDir, ...(arg ? { id: arg } : {}) };
}

export async function openRehearsal(opts: RehearsalOptions): Promise<Rehearsal> {
  const out = opts.quiet ? () => undefined : opts.out;
  const chosen = await resolveScenario(opts.scenario, opts.scenariosDir ?? SHIPPED_SCENARIOS);
  const worldPath = opts.worldPath ?? worldFor(chosen.id);
  const worldText = readFileSync(worldPath, "utf8");
  const section: RehearsalSection = readRehearsalSection(worldText, worldPath);
  const scenarioId = chosen.id ?? section.scenarios?.[0] ?? "fireworks-takeover";
  // Refuse a broken scenario before anything starts.
  await createScenarioLibrary(chosen.dir).get(scenarioId);

  const rateLimits = opts.rateLimits ?? true;
  const sim = await startSimulator({ rateLimits });
  let connection: RedisConnection | undefined;
  try {
    const control = sim.control;
    const loaded = await control.loadWorld(worldText);
    const first = loaded.bots[0];
    if (!first) throw new Error(`${worldPath} defines no bot for Warden: add one under bots:`);
    const bot = first;
    const users = { ...loaded.users };
    const chats = { ...loaded.chats };
    const ref = (kind: "user" | "chat", key: string): number => {
      const id = (kind === "user" ? users : chats)[key];
      if (id === undefined)
        throw new Error(
          `${worldPath}: the rehearsal section names ${kind} "${key}", which the world does not define`,
        );
      return id;
    };

    // The police: from the world when it names them, otherwise made up here.
    const operator =
      section.operator !== undefined
        ? ref("user", section.operator)
        : (
            await control.createUser({
              first_name: "Duty",
              last_name: "Officer",
              language_code: "nl",
            })
          ).id;
    const supervisor =
      section.supervisor !== undefined
        ? ref("user", section.supervisor)
        : (await control.createUser({ first_name: "Team", last_name: "Lead", language_code: "nl" }))
            .id;
    let room: number;
    if (section.control_room !== undefined) room = ref("chat", section.control_room);
    else {
      room = (
        await control.createChat({
          type: "supergroup",
          title: "Warden control room",
          owner_id: operator,
        })
      ).id;
      await control.join(room, supervisor);
      await control.join(room, bot.id);
      await control.promote(room, bot.id, "all");
    }
    const seize: Record<string, string> = section.seize ?? {};
    if (Object.keys(seize).length === 0) {
      const group = (await control.chats()).find((c) => c.type === "supergroup" && c.id !== room);
      if (!group) throw new Error(`${worldPath} has no supergroup to seize`);
      const key = Object.entries(chats).find(([, id]) => id === group.id)?.[0] ?? String(group.id);
      seize[key] = "fw1";
    }

    connection = await connectRedis({
      ...(opts.redisUrl ? { url: opts.redisUrl } : {}),
      logger: opts.logger,
      embeddedName: `rehearsal-${Date.now().toString(36)}`,
    });
    const redis = connection.redis;
    const { signer, notice } = signerForRun({
      ...(opts.auditKeyPath ? { keyPath: opts.auditKeyPath } : {}),
      live: false,
    });
    if (notice) out(notice);
    const audit = createAuditLog({ redis, signer });
    const clock = sim.sim.clock;
    const day = new Date(clock.nowMs()).toISOString().slice(0, 10);
    const caseId = `${section.case?.id ?? "rehearsal"}-${day}-${Date.now().toString(36)}`;
    const registry = { redis, audit, actor: { kind: "cli" as const, name: "rehearsal" } };
    await createCase(registry, {
      id: caseId,
      title: section.case?.title ?? `Rehearsal of ${scenarioId}`,
      authority: section.case?.authority ?? "REHEARSAL",
      purpose: section.case?.purpose ?? "rehearse a scenario",
      retentionDays: 1,
    });
    await addRole(registry, caseId, { userId: operator, role: "operator", name: "Duty officer" });
    await addRole(registry, caseId, { userId: supervisor, role: "supervisor", name: "Team lead" });
    const aliases: Record<string, number> = {};
    for (const [key, alias] of Object.entries(seize)) {
      const chatId = ref("chat", key);
      aliases[alias] = chatId;
      await addChat(registry, caseId, { chatId, alias });
    }
    await setControlRoom(registry, caseId, room);

    const warden = createWardenBot({
      token: bot.token,
      apiRoot: sim.apiRoot,
      redis,
      audit,
      logger: opts.logger,
      now: () => clock.nowMs(),
      scenariosDir: chosen.dir,
      scenarioTickMs: 0,
      dataDir: opts.dataDir,
      ...(rateLimits ? {} : { throttle: false as const }),
    });
    await warden.bot.init();
    const runner = startPolling(warden, opts.logger, { timeoutSeconds: 1 });

    const names = await namesOf(control, { room, aliases, users });
    const worldStart = Date.parse(
      String(loadedStart(worldText) ?? new Date(clock.nowMs()).toISOString()),
    );
    const script = [...section.script].sort((a, b) => a.at - b.at);
    let lastCall = 0;
    let lastSeq = 0;
    const pressed = new Set<number>();

    async function settle(): Promise<void> {
      const deadline = Date.now() + 120_000;
      let quiet = 0;
      while (quiet < 2) {
        const pending = (await control.bot(bot.id)).pending_update_count;
        quiet = pending === 0 && warden.busy() === 0 ? quiet + 1 : 0;
        if (Date.now() > deadline)
          throw new Error(
            "the rehearsal stalled: the bot did not finish handling its updates within 2 minutes",
          );
        await new Promise((r) => setTimeout(r, quiet > 0 ? 5 : 10));
      }
    }

    async function flush(): Promise<void> {
      const calls = await control.calls(lastCall);
      for (const call of calls) {
        lastCall = Math.max(lastCall, call.seq);
        if (call.bot_id !== bot.id) continue;
        const line = describeCall(call, names);
        if (line) out(`${stamp(call.time)} ${line}`);
      }
      const entries = await entriesSince(redis, caseId, lastSeq);
      for (const e of entries) {
        lastSeq = Math.max(lastSeq, e.seq);
        const line = describeEntry(e);
        if (line) out(auditLine(line));
      }
    }

    async function approvePending(): Promise<number> {
      const snapshot = await control.chat(room);
      let count = 0;
      for (const m of snapshot.messages) {
        if (m.sender_id !== bot.id || pressed.has(m.message.message_id)) continue;
        const text = (m.message as { text?: string }).text;
        const approve = buttonsOf(m.message)?.find((b) =>
          /^(ap|sa):.*:y$/.test(b.callback_data ?? ""),
        );
        if (!approve?.callback_data || !text?.includes("Approval needed")) continue;
        pressed.add(m.message.message_id);
        out(`${stamp(clock.now())} supervisor presses Approve`);
        await control.pressButton({
          from_id: supervisor,
          chat_id: room,
          message_id: m.message.message_id,
          data: approve.callback_data,
        });
        count++;
      }
      return count;
    }

    async function play(entry: ScriptEntry): Promise<void> {
      const at = stamp(clock.now());
      if ("private" in entry) {
        const userId = ref("user", entry.private);
        const input = entry.photo
          ? {
              from_id: userId,
              photo: true as const,
              ...(entry.text ? { caption: entry.text } : {}),
            }
          : { from_id: userId, text: entry.text ?? "" };
        out(
          `${at} ${names.user(userId)} writes to the bot: ${entry.photo ? "[photo] " : ""}${entry.text ?? ""}`,
        );
        await control.sendMessage(userId, input);
      } else if ("press" in entry) {
        const userId = ref("user", entry.press);
        const dialog = await control.chat(userId).catch(() => undefined);
        const named = (m: { message: unknown }) =>
          buttonsOf(m.message)?.find((b) => b.text === entry.button);
        const target = [...(dialog?.messages ?? [])]
          .reverse()
          .find((m) => m.sender_id === bot.id && named(m) !== undefined);
        const data = target && named(target)?.callback_data;
        if (!target || !data) {
          out(
            `${at} (${names.user(userId)} looked for a "${entry.button}" button but the bot showed none)`,
          );
          return;
        }
        out(`${at} ${names.user(userId)} presses “${entry.button}”`);
        await control.pressButton({
          from_id: userId,
          chat_id: userId,
          message_id: target.message.message_id,
          data,
        });
      } else {
        const chatId = ref("chat", entry.join_request);
        const userId = ref("user", entry.from);
        out(`${at} ${names.user(userId)} asks to join ${names.chat(chatId)}`);
        await control.requestToJoin(chatId, userId);
      }
    }

    let scriptIndex = 0;
    async function advanceTo(ms: number): Promise<void> {
      for (;;) {
        const entry = script[scriptIndex];
        const entryMs = entry ? worldStart + entry.at * 1000 : Number.POSITIVE_INFINITY;
        const target = Math.min(entryMs, ms);
        const seconds = Math.max(0, (target - clock.nowMs()) / 1000);
        if (seconds > 0) {
          const played = await control.advanceClock(seconds);
          for (const p of played.played) out(`${stamp(p.at)} ${describePlayed(p, names)}`);
        }
        if (!entry || entryMs > ms) return;
        scriptIndex++;
        await settle();
        await play(entry);
        await settle();
      }
    }

    async function currentRun(alias: string): Promise<RunState | undefined> {
      const chatId = aliases[alias];
      if (chatId === undefined) return undefined;
      const runId =
        (await redis.hget(scenarioKeys.active(caseId), String(chatId))) ??
        (await redis.zrevrange(scenarioKeys.runs(caseId), 0, 0))[0];
      return runId ? readRun(redis, caseId, runId) : undefined;
    }

    const maxMs = clock.nowMs() + (opts.maxDays ?? 30) * 86_400_000;
    const rehearsal: Rehearsal = {
      sim,
      control,
      redis,
      audit,
      warden,
      caseId,
      scenarioId,
      botId: bot.id,
      room,
      users,
      chats,
      aliases,
      operator,
      supervisor,
      settle,
      flush,
      approvePending,
      advanceTo,
      async operatorSays(text) {
        out(`${stamp(clock.now())} operator in the control room: ${text}`);
        await control.sendMessage(room, { from_id: operator, text });
        await settle();
      },
      async runUntilDone(alias) {
        for (;;) {
          await settle();
          while ((await approvePending()) > 0) await settle();
          await warden.scenarios.tick();
          await settle();
          while ((await approvePending()) > 0) await settle();
          await flush();
          const run = await currentRun(alias);
          if (run && run.status !== "running" && run.status !== "paused") return run;
          const now = clock.nowMs();
          const candidates = [
            timelineStep(sim.sim.timeline),
            script[scriptIndex]
              ? worldStart + (script[scriptIndex] as ScriptEntry).at * 1000
              : undefined,
            await warden.scenarios.nextTimer(caseId),
          ].filter((t): t is number => t !== undefined);
          if (candidates.length === 0) return run;
          const next = Math.max(Math.min(...candidates), now + 1000);
          if (next > maxMs) {
            out(`(stopping: nothing more happens within ${opts.maxDays ?? 30} simulated days)`);
            return run;
          }
          if (!opts.fast)
            await new Promise((r) => setTimeout(r, Math.min(2000, (next - now) / 3600)));
          await advanceTo(next);
        }
      },
      async finish(alias) {
        await settle();
        await flush();
        if (runner.isRunning()) await runner.stop();
        await warden.close();
        const run = await currentRun(alias);
        const all = await entriesSince(redis, caseId, 0);
        const failures = all
          .filter(
            (e) =>
              e.scenario &&
              ((e.phase === "outcome" && e.result?.ok !== true) || e.op === "scenario.fail"),
          )
          .map(
            (e) =>
              `#${e.seq} ${e.op} ‹${e.scenario?.step}›: ${e.op === "scenario.fail" ? String(e.params?.reason) : ((e.result as { description?: string } | undefined)?.description ?? "unknown")}`,
          );
        const missingRights = [
          ...new Set(
            all.flatMap((e) =>
              e.op === "scenario.start" && e.phase === "refused"
                ? ((e.params?.missing as string[] | undefined) ?? [])
                : e.op === "scenario.fail" && e.params?.missing_right
                  ? [String(e.params.missing_right)]
                  : [],
            ),
          ),
        ];
        const exportDir = join(opts.dataDir, "rehearsals", caseId);
        const exported = await exportBundle(audit, {
          caseId,
          out: exportDir,
          justification: "rehearsal: the audit trail of a scenario rehearsal, for review",
          recipients: ["scenario authors"],
          actor: { kind: "cli", name: "rehearsal" },
        });
        await audit.close();
        const report = await verifyCaseLog(redis, caseId, {
          verifiers: [verifierOf(signer as Signer)],
        });
        const ok =
          report.ok &&
          run?.status === "finished" &&
          failures.length === 0 &&
          missingRights.length === 0;
        return {
          ok,
          caseId,
          scenarioId,
          runStatus: run?.status ?? "not started",
          verified: report.ok,
          entries: report.entries,
          failures,
          missingRights,
          exportDir,
          exportFiles: exported.files.map((f) => join(exportDir, f)),
          ...(report.failure
            ? { verifyFailure: `${report.failure.seq}: ${report.failure.message}` }
            : {}),
        };
      },
      async close() {
        if (runner.isRunning()) await runner.stop().catch(() => undefined);
        await warden.close().catch(() => undefined);
        await audit.close().catch(() => undefined);
        await releaseSimulatedChats(redis, caseId, [room, ...Object.values(aliases)]);
        await connection?.close();
        await sim.close();
      },
    };
    return rehearsal;
  } catch (err) {
    await connection?.close();
    await sim.close();
    throw err;
  }
}

/**
 * The simulator hands out the same chat ids every run, so a rehearsal's chats
 * are unbound from the global indexes when it ends; otherwise the next
 * rehearsal on the same Redis would find them seized. The case, its log and
 * its export stay.
 */
async function releaseSimulatedChats(
  redis: Redis,
  caseId: string,
  chatIds: number[],
): Promise<void> {
  for (const index of [keys.chatIndex(), keys.controlRoomIndex()]) {
    for (const chatId of chatIds) {
      if ((await redis.hget(index, String(chatId))) === caseId)
        await redis.hdel(index, String(chatId));
    }
  }
  await redis.srem(globalScenarioKeys.cases(), caseId);
}

/**
 * Where the next clock jump should end for the world's timeline: at its next
 * message, or — when members write faster than 20 messages in 5 simulated
 * minutes — after a batch of them, so a busy world does not cost a round of
 * polling per message. Limits and ladders count by each message's own date.
 */
function timelineStep(timeline: ReadonlyArray<{ at: number }>): number | undefined {
  const first = timeline[0];
  if (!first) return undefined;
  let end = first.at;
  let count = 0;
  for (const entry of timeline.slice(0, 500)) {
    if (entry.at > first.at + 300) break;
    end = entry.at;
    count++;
  }
  return (count >= 20 ? end : first.at) * 1000;
}

function loadedStart(worldText: string): string | undefined {
  const m = /^start:\s*(\S+)/m.exec(worldText);
  return m?.[1];
}

async function namesOf(
  control: SimClient,
  where: { room: number; aliases: Record<string, number>; users: Record<string, number> },
): Promise<Names> {
  const people = new Map(
    (await control.users()).map((u) => [
      u.id,
      [u.first_name, u.last_name].filter(Boolean).join(" "),
    ]),
  );
  const groups = new Map(
    Object.entries(where.aliases).map(([alias, id]) => [id, `group ${alias}`]),
  );
  return {
    user: (id) => people.get(id) ?? String(id),
    chat: (id) =>
      id === where.room
        ? "control room"
        : (groups.get(id) ?? (id > 0 ? `${people.get(id) ?? id} (private)` : String(id))),
  };
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
