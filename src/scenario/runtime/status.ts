import { formatDuration } from "../../base/duration.ts";
import { scenarioKeys } from "./keys.ts";
import type { EngineDeps } from "./run-context.ts";
import { type RunState, readDefinition, readRun } from "./run-state.ts";
import { stepRef } from "./steps.ts";

/** What operators see of runs: `/scenario status` and the answers to start, resume and skip. */

/** The runs of a case, newest first: every active one, then the last ended ones up to `limit`. */
export async function listRuns(deps: EngineDeps, caseId: string, limit = 10): Promise<RunState[]> {
  const active = new Set(Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId))));
  const recent = await deps.redis.zrevrange(scenarioKeys.runs(caseId), 0, limit - 1);
  const ids = [...active, ...recent.filter((id) => !active.has(id))].slice(
    0,
    Math.max(limit, active.size),
  );
  const out: RunState[] = [];
  for (const id of ids) {
    const run = await readRun(deps.redis, caseId, id);
    if (run) out.push(run);
  }
  return out;
}

/** A run in a few lines: where it is, what it waits for, which triggers are live, who started it. */
export async function describeRun(deps: EngineDeps, run: RunState): Promise<string> {
  const scenario = await readDefinition(deps.redis, run.caseId, run.hash);
  const phase = scenario.phases[run.phase];
  const ref = stepRef(scenario, run.phase, run.step);
  const ended = run.status === "finished" || run.status === "aborted";
  const triggers = (phase?.triggers ?? []).map((t) => t.id ?? t.on);
  return [
    `${run.alias}: ${run.scenario} v${scenario.version} (${run.hash.slice(0, 12)}), run ${run.id}`,
    `  ${stateLine(run, ref, deps.now())}`,
    phase && !ended
      ? `  phase ${run.phase + 1}/${scenario.phases.length} ${phase.id}${triggers.length ? `, triggers: ${triggers.join(", ")}` : ""}`
      : undefined,
    `  started ${new Date(run.startedAt).toISOString().slice(0, 16)}Z by ${run.startedBy.name ?? run.startedBy.kind}`,
  ]
    .filter(Boolean)
    .join("\n");
}

function stateLine(run: RunState, ref: string, now: number): string {
  switch (run.status) {
    case "running":
      if (run.approvalId && !run.approvalResult)
        return `waiting for a supervisor's approval at ${ref}`;
      if (run.wakeAt !== undefined && run.wakeAt > now)
        return `at ${ref}, waiting until ${new Date(run.wakeAt).toISOString().slice(0, 16)}Z (in ${formatDuration(run.wakeAt - now)})`;
      return `running at ${ref}`;
    case "paused":
      return `paused at ${ref}`;
    case "failed":
      return `failed at ${ref}: ${run.reason ?? "see the audit log"}`;
    default:
      return run.status;
  }
}
