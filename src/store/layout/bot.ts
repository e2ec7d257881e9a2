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

/**
 * How updates come in (src/bot/intake/): the durable queue between Telegram's
 * webhook and the bot, shared by every process of one bot. Its keys carry the
 * hash tag `{intake}`, so on a Redis Cluster they share a slot and the script
 * that de-duplicates and queues an update touches them in one atomic step.
 */
export const intakeShapes = {
  updates: {
    scope: "global",
    pattern: "{intake}:updates:<part>",
    type: "stream",
    owner: "bot",
    holds:
      "one partition of the updates received on the webhook and not yet handled (a chat's updates always in the same one; field `u`: the update's JSON, `id`: its update id), read by the consumer group `warden`; removed once handled",
  },
  partitionLease: {
    scope: "global",
    pattern: "{intake}:partition:<part>:lease",
    type: "hash",
    owner: "bot",
    holds:
      "the process handling one intake partition: `holder`, `token` (its fencing token); expires unless renewed",
  },
  partitionFence: {
    scope: "global",
    pattern: "{intake}:partition:<part>:fence",
    type: "string",
    owner: "bot",
    holds: "the last fencing token granted for an intake partition's lease",
  },
  dead: {
    scope: "global",
    pattern: "{intake}:dead",
    type: "list",
    owner: "bot",
    holds:
      "dead letters: JSON of an update whose handling was begun too often without finishing (`update`, `attempts`, `at`), taken out of the intake",
  },
  seen: {
    scope: "global",
    pattern: "{intake}:seen",
    type: "zset",
    owner: "bot",
    holds:
      "update ids taken into the intake stream, by receive time (ms), so a redelivered update is queued once (kept a week)",
  },
  consumers: {
    scope: "global",
    pattern: "{intake}:consumers",
    type: "hash",
    owner: "bot",
    holds:
      "consumer → lease expiry (ms) of each process handling the intake partitions: how many share them, so each aims at an even share",
  },
  webhook: {
    scope: "global",
    pattern: "webhook",
    type: "hash",
    owner: "bot",
    holds:
      "the webhook Warden last set: `url`, `fingerprint` (HMAC of URL and secret keyed by the bot token; never the secret), `at` (ms)",
  },
} as const satisfies Record<string, KeyShape>;

/**
 * Several `warden start` processes on one Redis (src/store/process.ts,
 * src/bot/intake/polling.ts): each
 * process's liveness, and the polling lease, its fence and the offset its
 * holder confirmed. The polling keys carry the hash tag `{poll}`, so the
 * script that moves the offset checks the fence in the same atomic step.
 */
export const replicaShapes = {
  process: {
    scope: "global",
    pattern: "process:<proc>",
    type: "string",
    owner: "bot",
    holds:
      "a running `warden start` process's liveness lease: JSON (host, pid, mode, started); expires 5 s after its last renewal, and a stopping process deletes it",
  },
  pollLease: {
    scope: "global",
    pattern: "{poll}:lease",
    type: "hash",
    owner: "bot",
    holds:
      "the process that polls Telegram: `holder`, `token` (its fencing token); expires unless renewed",
  },
  pollFence: {
    scope: "global",
    pattern: "{poll}:fence",
    type: "string",
    owner: "bot",
    holds: "the last fencing token granted for the polling lease",
  },
  pollOffset: {
    scope: "global",
    pattern: "{poll}:offset",
    type: "hash",
    owner: "bot",
    holds:
      "the last confirmed offset (`offset`: every update below it persisted) and the `token` of the leader that wrote it",
  },
  auditKey: {
    scope: "global",
    pattern: "audit-key",
    type: "hash",
    owner: "audit",
    holds:
      "the audit signing key every process on this Redis signs with: `fingerprint` (SHA-256 of the public key), `at` (ms); a process with another key refuses to start",
  },
} as const satisfies Record<string, KeyShape>;
