import type { KeyShape } from "./shape.ts";

/** What the bot's features keep (src/bot/features/). */
export const botShapes = {
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
