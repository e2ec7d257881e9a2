import type { KeyShape } from "./shape.ts";

/**
 * Scenario runs (src/scenario/runtime/). Everything a run needs to continue
 * after a restart (its phase, step, timers, limits, ladders, conversations)
 * is under its case's hash tag.
 */
export const scenarioShapes = {
  run: {
    scope: "case",
    pattern: "scenario:run:<run>",
    type: "hash",
    owner: "scenario",
    holds:
      "one run's state (scenario, hash, chatId, alias, status, phase, step, wake time, approval…)",
    migration: "rewritten",
  },
  definition: {
    scope: "case",
    pattern: "scenario:def:<hash>",
    type: "string",
    owner: "scenario",
    holds: "the scenario a run follows, as canonical JSON, by content hash",
  },
  runs: {
    scope: "case",
    pattern: "scenario:runs",
    type: "zset",
    owner: "scenario",
    holds: "every run of the case by start time",
  },
  active: {
    scope: "case",
    pattern: "scenario:active",
    type: "hash",
    owner: "scenario",
    holds: "chat id → the run active there (one per chat)",
    fields: "<chat>",
    migration: "moves",
  },
  timers: {
    scope: "case",
    pattern: "scenario:timers",
    type: "zset",
    owner: "scenario",
    holds:
      "timers by due time (ms): `run:<run>`, `ghost:<run>:<trigger>:<msg>`, `convo:<chat>:<member>:<ask>`",
  },
  done: {
    scope: "case",
    pattern: "scenario:run:<run>:done:<what>",
    type: "string",
    owner: "scenario",
    holds:
      "marks a step, phase, trigger firing or conversation step as done, so it is recorded once",
  },
  posted: {
    scope: "case",
    pattern: "scenario:run:<run>:posted",
    type: "hash",
    owner: "scenario",
    holds: "step id → id of the message the step posted (for pin steps)",
  },
  limit: {
    scope: "case",
    pattern: "scenario:run:<run>:limit:<trigger>:<who>",
    type: "zset",
    owner: "scenario",
    holds: "update ids that counted against a trigger's limit, by time (ms)",
  },
  ladder: {
    scope: "case",
    pattern: "scenario:run:<run>:ladder:<ladder>:<member>",
    type: "zset",
    owner: "scenario",
    holds: "a member's offences on an escalation ladder (update ids by time)",
  },
  queue: {
    scope: "case",
    pattern: "scenario:run:<run>:queue",
    type: "list",
    owner: "scenario",
    holds: "JSON of trigger firings whose actions have yet to run, oldest first",
  },
  ghost: {
    scope: "case",
    pattern: "scenario:run:<run>:ghost",
    type: "hash",
    owner: "scenario",
    holds: "offers watched for ghost ads: `<msg>` → JSON, `reply:<msg>` → offer message id",
  },
  approval: {
    scope: "case",
    pattern: "scenario:approval:<approval>",
    type: "string",
    owner: "scenario",
    holds: "a pending approval request of a run's approve step",
  },
  lease: {
    scope: "case",
    pattern: "scenario:lease",
    type: "hash",
    owner: "scenario",
    holds:
      "the process that moves the case's runs and timers on: `holder`, `token` (its fencing token); expires unless renewed",
  },
  fence: {
    scope: "case",
    pattern: "scenario:fence",
    type: "string",
    owner: "scenario",
    holds:
      "the last fencing token granted for the case's scenario lease; what a run's holder records carries it, and is refused once a newer one is granted",
  },
  conversation: {
    scope: "case",
    pattern: "scenario:convo:<chat>:<member>",
    type: "string",
    owner: "scenario",
    holds:
      "a conversation's state (@grammyjs/conversations, versioned), per chat and member (private: chat = member)",
    migration: "stays",
  },
} as const satisfies Record<string, KeyShape>;

/** Indexes that let the tick and the conversations plugin find their case without scanning. */
export const scenarioGlobalShapes = {
  cases: {
    scope: "global",
    pattern: "scenario-cases",
    type: "set",
    owner: "scenario",
    holds: "ids of cases with an active run, for the tick",
  },
  conversations: {
    scope: "global",
    pattern: "scenario-convos",
    type: "hash",
    owner: "scenario",
    holds: "`<chat>:<member>` → case id of the conversation there",
    fields: "<chat>:<member>",
    migration: "stays",
  },
} as const satisfies Record<string, KeyShape>;
