import type { KeyShape } from "./shape.ts";

/**
 * What the action layer remembers about a seized chat between actions
 * (src/actions/chat-state.ts). All of it describes the group, not its
 * messages, so it follows the group to its new id when it becomes a supergroup.
 */
export const chatShapes = {
  state: {
    scope: "case",
    pattern: "chat:<chat>:state",
    type: "hash",
    owner: "actions",
    holds:
      "saved permissions, freeze mode, lockdown and release flags, whether lockdown closed or hid a forum's General topic (the recorder reads `frozen` in its step)",
    migration: "moves",
  },
  links: {
    scope: "case",
    pattern: "chat:<chat>:links",
    type: "set",
    owner: "actions",
    holds: "invite links the bot created, for lockdown to revoke",
    migration: "moves",
  },
  joinRequests: {
    scope: "case",
    pattern: "chat:<chat>:join-requests",
    type: "set",
    owner: "actions",
    holds: "user ids with a pending join request, for lockdown to decline",
    migration: "moves",
  },
  topicsClosed: {
    scope: "case",
    pattern: "chat:<chat>:topics-closed",
    type: "set",
    owner: "actions",
    holds:
      "thread ids of the forum topics lockdown found open and closed, for release to reopen exactly those",
    migration: "moves",
  },
} as const satisfies Record<string, KeyShape>;

/** Steps of actions on the record (src/actions/run.ts). */
export const actionShapes = {
  deletions: {
    scope: "case",
    pattern: "deletions",
    type: "hash",
    owner: "actions",
    holds:
      "the request (idempotency key) whose delete step asked Telegram to delete the message, written with that step's intent: a redelivered update finds it asked for and asks nothing again",
    fields: "<chat>:<msg>",
    migration: "stays",
  },
  step: {
    scope: "case",
    pattern: "action:<request>/<step>",
    type: "string",
    owner: "actions",
    holds: "JSON result of one action step, for de-duplication (kept 90 days)",
  },
  approval: {
    scope: "case",
    pattern: "approval:<approval>",
    type: "string",
    owner: "actions",
    holds:
      "JSON of an action or command waiting for a supervisor's approval (src/actions/approvals.ts), kept a day past expiry",
  },
  refusals: {
    scope: "case",
    pattern: "refusals:<hour>",
    type: "hash",
    owner: "actions",
    holds:
      "refused attempts in one hour, per person (`<who>`) and for everyone past the first 50 (`others`), so the log gets a bounded number of entries (src/actions/refusals.ts); kept two hours",
    fields: "<who>",
  },
} as const satisfies Record<string, KeyShape>;
