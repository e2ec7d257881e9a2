import { keys } from "../../store/keys.ts";

/**
 * Where scenario runs live in Redis. Everything a run needs to continue after
 * a restart (its phase, step, timers, limits, ladders, conversations) is under
 * its case's hash tag, `warden:{<case>}:scenario:…`; two global indexes let
 * the tick and the conversations plugin find their case without scanning.
 */
export const scenarioKeys = {
  /** Hash: one run's state (scenario, hash, chat, status, phase, step, wake time, approval…). */
  run: (caseId: string, runId: string) => keys.casePart(caseId, `scenario:run:${runId}`),
  /** String: the scenario a run follows, as canonical JSON, by content hash. */
  definition: (caseId: string, hash: string) => keys.casePart(caseId, `scenario:def:${hash}`),
  /** Sorted set: every run of the case by start time. */
  runs: (caseId: string) => keys.casePart(caseId, "scenario:runs"),
  /** Hash: chat id → the run active there (one per chat). */
  active: (caseId: string) => keys.casePart(caseId, "scenario:active"),
  /** Sorted set: timers by due time (ms): `run:<id>`, `ghost:<run>:<trigger>:<msg>`, `convo:<chat>:<user>:<ask>`. */
  timers: (caseId: string) => keys.casePart(caseId, "scenario:timers"),
  /** String: marks a step, phase or trigger firing as done, so it is recorded once. */
  done: (caseId: string, runId: string, what: string) =>
    keys.casePart(caseId, `scenario:run:${runId}:done:${what}`),
  /** Hash: step id → message id the step posted (for pin steps). */
  posted: (caseId: string, runId: string) => keys.casePart(caseId, `scenario:run:${runId}:posted`),
  /** Sorted set: update ids that counted against a limit, by time (ms). */
  limit: (caseId: string, runId: string, trigger: string, who: string) =>
    keys.casePart(caseId, `scenario:run:${runId}:limit:${trigger}:${who}`),
  /** Sorted set: a member's offences on a ladder (update ids by time). */
  ladder: (caseId: string, runId: string, ladder: string, memberId: number) =>
    keys.casePart(caseId, `scenario:run:${runId}:ladder:${ladder}:${memberId}`),
  /** List of JSON: trigger firings whose actions have yet to run, oldest first. */
  queue: (caseId: string, runId: string) => keys.casePart(caseId, `scenario:run:${runId}:queue`),
  /** Hash: offers watched for ghost ads: `<msg>` → JSON, `reply:<msg>` → offer msg. */
  ghost: (caseId: string, runId: string) => keys.casePart(caseId, `scenario:run:${runId}:ghost`),
  /** String: a pending approval request of a run's approve step. */
  approval: (caseId: string, approvalId: string) =>
    keys.casePart(caseId, `scenario:approval:${approvalId}`),
  /** A conversation's state (@grammyjs/conversations, versioned), per chat and member. */
  conversation: (caseId: string, chatId: number, userId: number) =>
    keys.casePart(caseId, `scenario:convo:${chatId}:${userId}`),
};

export const globalScenarioKeys = {
  /** Set: ids of cases with an active run, for the tick. */
  cases: () => "warden:global:scenario-cases",
  /** Hash: `<chat>:<user>` → case id of the conversation there. */
  conversations: () => "warden:global:scenario-convos",
};
