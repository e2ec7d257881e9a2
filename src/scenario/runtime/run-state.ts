import type { Redis } from "ioredis";
import type { Actor } from "../../audit/entry.ts";
import type { RedisWrite } from "../../store/cases.ts";
import type { Scenario } from "../definition/schema.ts";
import { scenarioKeys } from "./keys.ts";

/**
 * A run: one scenario running on one seized chat. Its state is a Redis hash,
 * changed only together with the audit entry that explains the change, so
 * after a crash the run is exactly where its log says it is.
 */

export type RunStatus = "running" | "paused" | "finished" | "aborted" | "failed";

export interface RunState {
  id: string;
  caseId: string;
  scenario: string;
  hash: string;
  title: string;
  chatId: number;
  alias: string;
  /** The group's title when the run started, for templates: after a lockdown the title is the police's. */
  groupTitle?: string;
  status: RunStatus;
  /** Index of the current phase, and of the current step in it. */
  phase: number;
  step: number;
  /** Raised by each retry after a failure, so a retried step gets a fresh idempotency key. */
  attempt: number;
  startedAt: number;
  startedBy: Actor;
  /** A wait, until or approve step's deadline (ms), and which step (`<phase>.<step>`) it belongs to. */
  wakeAt?: number;
  wakeStep?: string;
  approvalId?: string;
  approvalStep?: string;
  approvalResult?: "granted" | "rejected" | "expired";
  pausedAt?: number;
  reason?: string;
  endedAt?: number;
}

const NUMBERS = [
  "chatId",
  "phase",
  "step",
  "attempt",
  "startedAt",
  "wakeAt",
  "pausedAt",
  "endedAt",
];

export async function readRun(
  redis: Redis,
  caseId: string,
  runId: string,
): Promise<RunState | undefined> {
  const raw = await redis.hgetall(scenarioKeys.run(caseId, runId));
  if (!raw.id) return undefined;
  const run: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "startedBy") run[k] = JSON.parse(v);
    else if (NUMBERS.includes(k)) run[k] = Number(v);
    else run[k] = v;
  }
  return run as unknown as RunState;
}

/** HSET of the given fields (undefined ones are skipped; use `clear` to remove fields). */
export function setRun(caseId: string, runId: string, fields: Partial<RunState>): RedisWrite[] {
  const args: (string | number)[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    args.push(k, typeof v === "object" ? JSON.stringify(v) : (v as string | number));
  }
  return args.length ? [["HSET", scenarioKeys.run(caseId, runId), ...args]] : [];
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
