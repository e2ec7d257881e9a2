import type { KeyShape } from "./shape.ts";

/** What the bot's features keep (src/bot/features/). */
export const botShapes = {
  approval: {
    scope: "case",
    pattern: "approval:<approval>",
    type: "string",
    owner: "bot",
    holds: "JSON of a command waiting for a supervisor's approval (approvals.ts)",
  },
  tradeWarnings: {
    scope: "case",
    pattern: "trade-warnings",
    type: "hash",
    owner: "bot",
    holds:
      "per seized chat, the trade guard's warning gate: `<chat>:last` (s), `<chat>:since` (removals)",
    fields: "<chat>:<name>",
    migration: "moves",
  },
  scenarioInbox: {
    scope: "global",
    pattern: "scenario-inbox",
    type: "hash",
    owner: "bot",
    holds:
      "update id → JSON of an update a scenario may act on, until the bot has handled it (replayed after a crash)",
    fields: "<update>",
  },
} as const satisfies Record<string, KeyShape>;
