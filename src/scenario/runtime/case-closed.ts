import { scenarioKeys } from "./keys.ts";
import type { EngineDeps } from "./run-context.ts";
import { abortForClosedCase } from "./run-end.ts";
import { readRun } from "./run-state.ts";

/**
 * Closing a case aborts its scenario runs: every run still active there
 * (running, paused or failed) ends as `aborted` with its `scenario.abort`
 * entry, in the name of the close. Needs only Redis and the log, so the CLI
 * can do it on a server without the bot; a run the close misses (a crash in
 * between) is aborted by the engine the next time it looks at it.
 */
export async function abortRunsOfClosedCase(
  deps: Pick<EngineDeps, "redis" | "audit" | "now">,
  caseId: string,
): Promise<number> {
  let aborted = 0;
  for (const runId of Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId)))) {
    const run = await readRun(deps.redis, caseId, runId);
    if (!run) continue;
    await abortForClosedCase({
      deps,
      run,
      chat: { chatId: run.chatId, alias: run.alias, addedAt: "", addedBy: "" },
    });
    aborted++;
  }
  return aborted;
}
