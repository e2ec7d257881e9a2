import { entriesSince } from "../../audit/recent.ts";
import type { Redis } from "../../store/redis.ts";
import type { RunState } from "./run-state.ts";

/**
 * The members a run restricted, read from the audit log: every `restrict`
 * that Telegram confirmed (an outcome with `ok: true`) on the run's chat,
 * caused by the run's scenario after the run started (its steps, triggers and
 * ladders all carry the scenario's id and hash). A member the run banned
 * afterwards is left out: lifting a restriction must not undo a ban. The log
 * is the record of what was done, so nothing else has to keep the list.
 */
export async function membersRestrictedByRun(redis: Redis, run: RunState): Promise<number[]> {
  const intents = new Map<number, { op: string; users: number[] }>();
  const restricted = new Set<number>();
  const banned = new Set<number>();
  let started = false;
  for (const e of await entriesSince(redis, run.caseId, 0)) {
    if (!started) {
      started = e.op === "scenario.start" && e.phase === "info" && e.params?.run === run.id;
      continue;
    }
    if (e.scenario?.id !== run.scenario || e.scenario.hash !== run.hash) continue;
    // The alias follows the chat through a supergroup upgrade; another chat's run has another.
    if (e.target?.alias !== run.alias && e.target?.chat_id !== run.chatId) continue;
    if (e.phase === "intent" && (e.op === "restrict" || e.op === "ban"))
      intents.set(e.seq, { op: e.op, users: e.target?.user_ids ?? [] });
    if (e.phase !== "outcome" || e.result?.ok !== true || e.intent_seq === undefined) continue;
    const intent = intents.get(e.intent_seq);
    for (const id of intent?.users ?? []) {
      if (intent?.op === "restrict") restricted.add(id);
      else banned.add(id);
    }
  }
  return [...restricted].filter((id) => id > 0 && !banned.has(id));
}
