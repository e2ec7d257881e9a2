import { collectKeys } from "../../collect/keys.ts";
import { knownTopics, topicByName } from "../../collect/topics.ts";
import { caseOfChat } from "../../store/cases.ts";
import { keys } from "../../store/keys.ts";
import { trackedReads } from "../../store/tracked-reads.ts";
import { triggerId } from "../definition/names.ts";
import { compileSafeRegex, type SafeRegex } from "../definition/safe-regex.ts";
import type { Scenario, Trigger, TriggerAction } from "../definition/schema.ts";
import type { ConversationStart, ScenarioEvent } from "./events.ts";
import { type Firing, type QueuedFiring, recordFiring, runActions } from "./firing.ts";
import { trackGhost } from "./ghost.ts";
import { globalScenarioKeys, scenarioKeys } from "./keys.ts";
import { type LimitCheck, withinLimits } from "./limits.ts";
import { type EngineDeps, runContext } from "./run-context.ts";
import { readDefinition, readRun } from "./run-state.ts";

/**
 * Triggers: what members do, answered while a phase runs. A matching event
 * is checked against the trigger's limits, recorded (`scenario.trigger`, with
 * why it matched), then its actions run in order, each under the key
 * `scn:<run>:<phase>:<trigger>:<update>:<n>`, so a redelivered update does
 * nothing twice. People who hold a role in the case never set off a trigger.
 */

const regexCache = new Map<string, SafeRegex>();

function regexFor(pattern: string): SafeRegex {
  let re = regexCache.get(pattern);
  if (!re) {
    re = compileSafeRegex(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

function normalise(text: string): string {
  return ` ${text.toLowerCase().normalize("NFKC").replace(/\s+/g, " ")} `;
}

/** Whether a trigger's condition holds for an event (limits aside). */
export function matches(trigger: Trigger, event: ScenarioEvent): boolean {
  switch (trigger.on) {
    case "trade_offer":
      return (
        event.kind === "message" &&
        event.message?.offer !== undefined &&
        (trigger.min_score === undefined || event.message.offer.score >= trigger.min_score)
      );
    case "message": {
      if (event.kind !== "message" || !event.message?.text || event.message.edited) return false;
      const text = event.message.text;
      if (trigger.keywords) {
        const hay = normalise(text);
        if (trigger.keywords.some((k) => hay.includes(normalise(k).slice(0, -1)))) return true;
      }
      return trigger.regex !== undefined && regexFor(trigger.regex).test(text);
    }
    case "join":
    case "leave":
    case "join_request":
    case "private_message":
      return event.kind === trigger.on;
    case "ghost_ad":
      return false;
  }
}

/**
 * Whether a message was posted in one of the topics a trigger names by title.
 * Titles are resolved against the topics Warden has seen (src/collect/topics.ts)
 * when the message arrives, so a renamed topic matches by its new name.
 */
async function inTopics(
  deps: EngineDeps,
  caseId: string,
  event: ScenarioEvent,
  names: readonly string[],
): Promise<boolean> {
  const topic = event.message?.topic;
  if (topic === undefined) return false;
  const known = await knownTopics(deps.redis, caseId, event.chatId);
  return names.some((name) => topicByName(known, name)?.id === topic);
}

/** The runs an event concerns: the run of its group, or for a private message the member's case's. */
async function runsFor(
  deps: EngineDeps,
  event: ScenarioEvent,
): Promise<Array<{ caseId: string; runId: string }>> {
  if (event.kind !== "private_message") {
    const caseId = event.caseId ?? (await caseOfChat(deps.redis, event.chatId));
    if (!caseId) return [];
    // Asked for every member's message; cached until Redis says the case's active runs changed.
    const active = scenarioKeys.active(caseId);
    const chat = String(event.chatId);
    const runId = await trackedReads(deps.redis).get(active, chat, (r) => r.hget(active, chat));
    return runId ? [{ caseId, runId }] : [];
  }
  const caseIds = await deps.redis.smembers(globalScenarioKeys.cases());
  const seen: Array<{ caseId: string; runId: string }> = [];
  const other: Array<{ caseId: string; runId: string }> = [];
  for (const caseId of caseIds.sort()) {
    const runIds = Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId)));
    const known = await deps.redis.exists(collectKeys.member(caseId, event.member.id));
    for (const runId of runIds.sort()) (known ? seen : other).push({ caseId, runId });
  }
  // A member seen in a seized group is answered by that group's run; someone unseen by any run that listens.
  return [...seen, ...other];
}

/** Whether a trigger can start a conversation (directly or through a ladder): then it must act in the update's own context. */
function startsConversation(scenario: Scenario, trigger: Trigger): boolean {
  const direct = (actions: TriggerAction[]) => actions.some((a) => "start" in a);
  return trigger.do.some(
    (a) =>
      "start" in a ||
      ("ladder" in a && (scenario.ladders?.[a.ladder]?.rungs ?? []).some((rung) => direct(rung))),
  );
}

export interface HandledEvent {
  /** Conversations to start in the update's context. */
  starts: ConversationStart[];
  /** Runs whose queue got a firing: their actions run off the update's path. */
  queued: Array<{ caseId: string; runId: string }>;
}

/**
 * Handles one event for every run it concerns. A trigger's firing is
 * recorded at once (with why it matched) and, unless it starts a
 * conversation, queued in its run's Redis list in the same atomic step: its
 * actions (replies, notifications, restrictions) then run in order off the
 * update's path, so a reply waiting for Telegram's flood limits does not hold
 * up the group's other updates, and a crash loses nothing queued.
 */
export async function handleEvent(deps: EngineDeps, event: ScenarioEvent): Promise<HandledEvent> {
  const starts: ConversationStart[] = [];
  const queued: HandledEvent["queued"] = [];
  for (const { caseId, runId } of await runsFor(deps, event)) {
    const run = await readRun(deps.redis, caseId, runId);
    if (run?.status !== "running") continue;
    const scenario = await readDefinition(deps.redis, caseId, run.hash);
    const phase = scenario.phases[run.phase];
    if (!phase) continue;
    const triggers = phase.triggers ?? [];
    if (triggers.length === 0) continue;
    if (event.member.id === deps.botId()) continue;
    if (await deps.redis.hexists(keys.caseRoles(caseId), String(event.member.id))) continue;
    const rc = await runContext(deps, run);
    if (rc.record.status !== "open") continue; // a closed case answers nothing
    if (event.kind === "message" && triggers.some((t) => t.on === "ghost_ad")) {
      await trackGhost(rc, scenario, run.phase, event);
    }
    for (const [index, trigger] of triggers.entries()) {
      if (!matches(trigger, event)) continue;
      if (trigger.topics && !(await inTopics(deps, caseId, event, trigger.topics))) continue;
      const id = triggerId(trigger, index);
      const limits: LimitCheck[] = [];
      if (trigger.limit)
        limits.push({
          key: scenarioKeys.limit(caseId, runId, `${phase.id}:${id}`, `m${event.member.id}`),
          ...trigger.limit,
        });
      if (trigger.chat_limit)
        limits.push({
          key: scenarioKeys.limit(caseId, runId, `${phase.id}:${id}`, "chat"),
          ...trigger.chat_limit,
        });
      const at = Math.min(event.at ?? deps.now(), deps.now());
      if (!(await withinLimits(deps.redis, limits, at, String(event.updateId)))) continue;
      const firing: Firing = {
        rc,
        scenario,
        phaseId: phase.id,
        trigger: id,
        occasion: String(event.updateId),
        chatId: event.chatId,
        member: event.member,
        ...(event.message ? { messageId: event.message.id, text: event.message.text } : {}),
        private: event.kind === "private_message",
        updateIds: [event.updateId],
        at,
      };
      const why = event.message?.offer
        ? { score: event.message.offer.score, rules: event.message.offer.rules }
        : {};
      if (startsConversation(scenario, trigger)) {
        await recordFiring(firing, trigger, why);
        starts.push(...(await runActions(firing, trigger.do, "")));
      } else {
        const { rc: _rc, scenario: _s, phaseId: _p, trigger: _t, ...rest } = firing;
        await recordFiring(firing, trigger, why, { ...rest, phase: run.phase, trigger: index });
        if (!queued.some((q) => q.runId === runId)) queued.push({ caseId, runId });
      }
      if (event.kind === "private_message" && starts.length > 0) break;
    }
    // A private message is answered by one run only.
    if (event.kind === "private_message" && starts.length > 0) break;
  }
  return { starts, queued };
}

/** Runs the actions of the firing at the head of a run's queue (which the caller then removes). */
export async function runQueued(deps: EngineDeps, caseId: string, raw: string): Promise<void> {
  const q = JSON.parse(raw) as QueuedFiring & { run: string };
  const run = await readRun(deps.redis, caseId, q.run);
  if (!run || run.status === "finished" || run.status === "aborted") return;
  const scenario = await readDefinition(deps.redis, caseId, run.hash);
  const phase = scenario.phases[q.phase];
  const trigger = phase?.triggers?.[q.trigger];
  if (!phase || !trigger) return;
  const { phase: _phase, trigger: _trigger, run: _run, ...rest } = q;
  await runActions(
    {
      ...rest,
      rc: await runContext(deps, run),
      scenario,
      phaseId: phase.id,
      trigger: triggerId(trigger, q.trigger),
    },
    trigger.do,
    "",
  );
}
