import { createHash } from "node:crypto";
import type { ChatMemberAdministrator } from "grammy/types";
import type { Actor } from "../../audit/entry.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import type { CaseRecord, SeizedChat } from "../../store/cases.ts";
import { caseClosedMessage, caseIsOpen } from "../../store/cases.ts";
import { indexScenarioCase } from "../../store/global-index.ts";
import type { LoadedScenario } from "../definition/load.ts";
import type { Scenario } from "../definition/schema.ts";
import { advance } from "./advance.ts";
import { scenarioKeys } from "./keys.ts";
import type { EngineDeps } from "./run-context.ts";
import type { RunLocks } from "./run-lock.ts";
import { type RunState, readRun, setNewRun } from "./run-state.ts";
import { describeRun } from "./status.ts";

/**
 * Starting a run: the scenario from the library, one run per chat, every
 * right the scenario declares held by the bot, then the run, its definition
 * and its indexes written with the `scenario.start` entry in one atomic step,
 * and the run moved on as far as it goes at once.
 */

export interface StartRequest {
  record: CaseRecord;
  chat: SeizedChat;
  scenarioId: string;
  actor: Actor;
  /** The command's idempotency key: a redelivered or approved command starts one run. */
  requestKey: string;
  updateIds?: number[];
}

export interface StartResult {
  ok: boolean;
  text: string;
  runId?: string;
}

export async function startRun(
  deps: EngineDeps,
  locks: RunLocks,
  req: StartRequest,
): Promise<StartResult> {
  let loaded: LoadedScenario;
  try {
    loaded = await deps.library.get(req.scenarioId);
  } catch (err) {
    return { ok: false, text: (err as Error).message };
  }
  const { scenario, hash } = loaded;
  const caseId = req.record.id;
  if (req.record.status !== "open") return { ok: false, text: caseClosedMessage(caseId) };
  const runId = runIdOf(caseId, req);
  const existing = await deps.redis.hget(scenarioKeys.active(caseId), String(req.chat.chatId));
  if (existing === runId) {
    const run = await readRun(deps.redis, caseId, runId);
    return {
      ok: true,
      runId,
      text: run ? await describeRun(deps, run) : `run ${runId} started earlier`,
    };
  }
  if (existing) {
    const other = await readRun(deps.redis, caseId, existing);
    return {
      ok: false,
      text: `${req.chat.alias} already runs ${other?.scenario ?? "a scenario"} (run ${existing}, ${other?.status ?? "unknown"}): /scenario abort ${req.chat.alias} first`,
    };
  }
  const found = await botInChat(deps, req.chat, scenario);
  if ("error" in found) return { ok: false, text: found.error };
  if (found.missing.length > 0) return refuseForRights(deps, req, loaded, found.missing);
  const run: RunState = {
    id: runId,
    caseId,
    scenario: scenario.id,
    hash,
    title: scenario.title,
    chatId: req.chat.chatId,
    alias: req.chat.alias,
    ...(found.title ? { groupTitle: found.title } : {}),
    status: "running",
    phase: 0,
    step: 0,
    attempt: 0,
    startedAt: deps.now(),
    startedBy: req.actor,
  };
  try {
    await recordStart(deps, req, loaded, run);
  } catch (err) {
    if (err instanceof RecordRefusedError) return { ok: false, text: err.message };
    throw err;
  }
  await advance(deps, locks, caseId, runId);
  const after = await readRun(deps.redis, caseId, runId);
  return {
    ok: after?.status !== "failed",
    runId,
    text: `started ${scenario.id} v${scenario.version} (${hash.slice(0, 12)}) on ${req.chat.alias} as run ${runId}\n${after ? await describeRun(deps, after) : ""}`,
  };
}

/** Deterministic per case and request, so a redelivered or approved command finds its run. */
function runIdOf(caseId: string, req: StartRequest): string {
  const digest = createHash("sha256").update(`${caseId}|${req.requestKey}`).digest("hex");
  return `${req.chat.alias}-${digest.slice(0, 8)}`;
}

/**
 * The rights the scenario declares that the bot lacks in the chat (an owner
 * lacks none), and the chat's title for templates. A run missing a right
 * would fail halfway, so it does not start.
 */
async function botInChat(
  deps: EngineDeps,
  chat: SeizedChat,
  scenario: Scenario,
): Promise<{ missing: string[]; title?: string } | { error: string }> {
  const botId = deps.botId() ?? (await deps.api.getMe()).id;
  try {
    const [member, info] = await Promise.all([
      deps.api.getChatMember(chat.chatId, botId),
      deps.api.getChat(chat.chatId),
    ]);
    const title = "title" in info ? info.title : undefined;
    const rights =
      member.status === "administrator" ? (member as ChatMemberAdministrator) : undefined;
    const missing =
      member.status === "creator"
        ? []
        : scenario.rights.filter(
            (r) => (rights as Record<string, unknown> | undefined)?.[r] !== true,
          );
    return { missing, ...(title !== undefined ? { title } : {}) };
  } catch (err) {
    return { error: `could not read the bot's rights in ${chat.alias}: ${(err as Error).message}` };
  }
}

/** A start refused for missing rights is on the record too, with the rights it lacked. */
async function refuseForRights(
  deps: EngineDeps,
  req: StartRequest,
  { scenario, hash }: LoadedScenario,
  missing: string[],
): Promise<StartResult> {
  await deps.audit.record({
    case: req.record.id,
    actor: req.actor,
    op: "scenario.start",
    phase: "refused",
    target: { chat_id: req.chat.chatId, alias: req.chat.alias },
    params: { reason: "missing admin rights", missing },
    scenario: { id: scenario.id, hash, step: "start" },
    ...(req.updateIds?.length ? { update_ids: req.updateIds } : {}),
  });
  return {
    ok: false,
    text: `${scenario.id} was not started: the bot lacks ${missing.join(", ")} in ${req.chat.alias}; ask the owner account to grant ${missing.length === 1 ? "it" : "them"}, then start again`,
  };
}

/**
 * `scenario.start`, with the run's state, its definition (by content hash, so
 * a changed file does not change a running scenario) and its indexes. Refused
 * when this request started a run already or the chat runs another.
 */
async function recordStart(
  deps: EngineDeps,
  req: StartRequest,
  { scenario, hash }: LoadedScenario,
  run: RunState,
): Promise<void> {
  const { caseId, id: runId } = run;
  // The index of cases with a run is global (another slot on a cluster), so it cannot be written
  // in the start's own step. Listed before the start is recorded, so a member's message handled
  // the moment the run is active already finds the case (the scenario feature skips updates while
  // no listed case has a run); a listing whose start was refused or cut is harmless, since the tick
  // and the feature then find no active run, and the run's end drops it.
  await indexScenarioCase(deps.redis, caseId);
  await deps.audit.record(
    {
      case: caseId,
      actor: req.actor,
      op: "scenario.start",
      phase: "info",
      target: { chat_id: req.chat.chatId, alias: req.chat.alias },
      params: {
        run: runId,
        title: scenario.title,
        version: scenario.version,
        phases: scenario.phases.map((p) => p.id),
      },
      scenario: { id: scenario.id, hash, step: "start" },
      ...(req.updateIds?.length ? { update_ids: req.updateIds } : {}),
    },
    {
      preconditions: [
        {
          key: scenarioKeys.run(caseId, runId),
          exists: false,
          message: "this run was started already",
        },
        {
          key: scenarioKeys.active(caseId),
          field: String(req.chat.chatId),
          exists: false,
          message: `${req.chat.alias} already runs a scenario: /scenario abort ${req.chat.alias} first`,
        },
        // Checked as the start is recorded, not as the request was read: a case closed meanwhile starts nothing.
        caseIsOpen(caseId),
      ],
      writes: [
        ["SET", scenarioKeys.definition(caseId, hash), JSON.stringify(scenario)],
        ...setNewRun(caseId, runId, run),
        ["HSET", scenarioKeys.active(caseId), String(req.chat.chatId), runId],
        ["ZADD", scenarioKeys.runs(caseId), run.startedAt, runId],
      ],
    },
  );
  // Listed again once recorded: a run that ended elsewhere in between may have dropped the
  // listing (its end removes the case when no run is active), and a repair at start that ran in
  // between re-lists only what it sees active.
  await indexScenarioCase(deps.redis, caseId);
}
