import type { RedisWrite } from "../../store/cases.ts";
import type { Redis } from "../../store/redis.ts";
import type { Scenario } from "../definition/schema.ts";
import { scenarioKeys } from "./keys.ts";
import {
  parseRunState,
  RUN_STATE_VERSION,
  type RunState,
  VERSION_FIELD,
} from "./run-state-schema.ts";

export { type RunState, RunStateError, type RunStatus } from "./run-state-schema.ts";

/**
 * A run: one scenario running on one seized chat. Its state is a Redis hash,
 * changed only together with the audit entry that explains the change, so
 * after a crash the run is exactly where its log says it is. The hash is
 * checked on every read, and carries the version of its layout
 * (run-state-schema.ts).
 */

/**
 * The run, or undefined when there is none. Throws `RunStateError` for a run
 * this Warden cannot read exactly (a newer layout, a damaged field), so that
 * nothing acts on a misread run.
 */
export async function readRun(
  redis: Redis,
  caseId: string,
  runId: string,
): Promise<RunState | undefined> {
  const raw = await redis.hgetall(scenarioKeys.run(caseId, runId));
  if (Object.keys(raw).length === 0) return undefined;
  return parseRunState(caseId, runId, raw);
}

/** A new run's hash, with the version of the layout it is written in (only here: see run-state-schema.ts). */
export function setNewRun(caseId: string, runId: string, run: RunState): RedisWrite[] {
  return [
    ["HSET", scenarioKeys.run(caseId, runId), VERSION_FIELD, RUN_STATE_VERSION, ...hashArgs(run)],
  ];
}

/** HSET of the given fields (undefined ones are skipped; use `clear` to remove fields). */
export function setRun(caseId: string, runId: string, fields: Partial<RunState>): RedisWrite[] {
  const args = hashArgs(fields);
  return args.length ? [["HSET", scenarioKeys.run(caseId, runId), ...args]] : [];
}

/** Field, value, …: numbers and text as they are, the actor as JSON. */
function hashArgs(fields: Partial<RunState>): (string | number)[] {
  const args: (string | number)[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    args.push(k, typeof v === "object" ? JSON.stringify(v) : (v as string | number));
  }
  return args;
}

export function clearRun(
  caseId: string,
  runId: string,
  fields: Array<keyof RunState>,
): RedisWrite[] {
  return fields.length ? [["HDEL", scenarioKeys.run(caseId, runId), ...fields]] : [];
}

const definitions = new Map<string, Scenario>();

/** The scenario a run follows, by content hash (immutable, so cached for good). */
export async function readDefinition(
  redis: Redis,
  caseId: string,
  hash: string,
): Promise<Scenario> {
  const hit = definitions.get(hash);
  if (hit) return hit;
  const raw = await redis.get(scenarioKeys.definition(caseId, hash));
  if (!raw)
    throw new Error(
      `the scenario definition ${hash.slice(0, 12)} of case ${caseId} is missing from Redis`,
    );
  const scenario = JSON.parse(raw) as Scenario;
  definitions.set(hash, scenario);
  return scenario;
}

/** The idempotency key of a phase step: `scn:<run>:<phase>:<step>`, with the retry number after a failure. */
export function stepKey(run: RunState, phaseId: string, stepId: string): string {
  return `scn:${run.id}:${phaseId}:${stepId}${run.attempt > 0 ? `#${run.attempt}` : ""}`;
}
