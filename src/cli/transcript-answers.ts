import type { AuditEntry } from "../audit/entry.ts";
import { showInvisible } from "../base/html.ts";
import { collectKeys } from "../collect/keys.ts";
import type { Redis } from "../store/redis.ts";

/**
 * A conversation's recorded answer, for the rehearsal's transcript: "Mike
 * Peters's answer recorded as role: buyer". The audit entry says that an
 * answer was recorded, under which name and where it is kept (`evidence`);
 * the words themselves are in the case's evidence, read from there.
 */
export async function describeRecordedAnswer(
  redis: Redis,
  e: AuditEntry,
  names: { user(id: number): string },
): Promise<string | undefined> {
  if (e.op !== "collect" || e.params?.purpose !== "scenario conversation answer") return undefined;
  const name = String(e.params.name ?? "answer");
  const member = e.target?.user_ids?.[0];
  const who = member !== undefined ? `${names.user(member)}'s` : "an";
  const field = typeof e.params.evidence === "string" ? e.params.evidence : undefined;
  const stored = field ? await redis.hget(collectKeys.evidence(e.case), field) : null;
  const answer = stored ? (JSON.parse(stored) as { answer?: unknown }).answer : undefined;
  const where = e.scenario ? ` ‹${e.scenario.step}›` : "";
  const words =
    typeof answer === "string"
      ? `: ${showInvisible(answer.replace(/\s*\n\s*/g, " ⏎ "))}`
      : " (the words are no longer kept)";
  return `#${e.seq} ${who} answer recorded as ${name}${words}${where}`;
}
