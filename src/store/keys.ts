import { buildersOf, partsOf } from "./layout/builders.ts";
import { LAYOUT } from "./layout/registry.ts";

/**
 * The builders of Warden's Redis keys, one object per group of the registry
 * (src/store/layout/): each function builds the key of one declared shape,
 * its arguments typed from the shape's holes, e.g.
 * `collectKeys.messages(caseId, chatId)` → `warden:{<case>}:chat:<chat>:msgs`.
 * To add a key, declare its shape in src/store/layout/ (pattern, type, owner,
 * what it holds, what a supergroup upgrade does to it) and regenerate the
 * README's table (`npx tsx scripts/generate-key-table.ts`).
 */

export { assertCaseId, CASE_ID_PATTERN, casePrefix } from "./layout/prefix.ts";

/** Cases, roles, control rooms and seized chats (src/store/cases.ts). */
export const keys = buildersOf(LAYOUT.store);
/** The parts of `keys` after `warden:{<case>}:` (the recorder's step checks the case is open). */
export const storeParts = partsOf(LAYOUT.store);
/** The audit log (src/audit/storage.ts). */
export const auditKeys = buildersOf(LAYOUT.audit);
/** What the recorder and the rest of src/collect keep. */
export const collectKeys = buildersOf(LAYOUT.collect);
/** The parts of `collectKeys` after `warden:{<case>}:`: what the recorder's atomic step completes. */
export const collectParts = partsOf(LAYOUT.collect);
/** A seized chat's state between actions (src/actions/chat-state.ts). */
export const chatKeys = buildersOf(LAYOUT.chat);
/** The parts of `chatKeys` after `warden:{<case>}:` (the recorder reads the freeze mode in its step). */
export const chatParts = partsOf(LAYOUT.chat);
/** Results of action steps (src/actions/run.ts) and requests waiting for approval (src/actions/approvals.ts). */
export const actionKeys = buildersOf(LAYOUT.action);
/** The bot's features: the trade guard's gate, the scenario inbox. */
export const botKeys = buildersOf(LAYOUT.bot);
/** The intake queue between the webhook and the bot, and the webhook Warden set (src/bot/intake/). */
export const intakeKeys = buildersOf(LAYOUT.intake);
/** Several processes on one Redis: liveness, the polling lease and offset, the audit key's fingerprint (src/store/lease.ts, src/bot/replicas/). */
export const replicaKeys = buildersOf(LAYOUT.replicas);
/** Scenario runs, under their case. */
export const scenarioKeys = buildersOf(LAYOUT.scenario);
/** Scenario indexes that belong to no case. */
export const globalScenarioKeys = buildersOf(LAYOUT.scenarioGlobal);
