import type { Redis } from "ioredis";
import type { AuditEntry } from "./entry.ts";
import { auditKeys, readHeadPosition } from "./storage.ts";

/**
 * The newest entries of a case's log, newest first, for operator summaries
 * such as /status. Erased entries (tombstones) are left out. Not for
 * verification: the verifier reads every entry through `readStoredLines`.
 */
export async function recentEntries(
  redis: Redis,
  caseId: string,
  count: number,
): Promise<AuditEntry[]> {
  const { seq } = await readHeadPosition(redis, caseId);
  if (seq === 0) return [];
  const seqs: string[] = [];
  for (let s = seq; s > 0 && seqs.length < count; s--) seqs.push(String(s));
  const payloads = await redis.hmget(auditKeys.payloads(caseId), ...seqs);
  const entries: AuditEntry[] = [];
  for (const raw of payloads) {
    if (!raw) continue;
    const parsed = JSON.parse(raw) as AuditEntry & { erased_by?: number };
    if (typeof parsed.seq === "number" && typeof parsed.op === "string") entries.push(parsed);
  }
  return entries;
}
