import type { Redis } from "../store/redis.ts";
import type { AuditEntry } from "./entry.ts";
import { auditKeys, readHeadPosition } from "./storage.ts";

/**
 * Entries of a case's log read back for people: the newest few for operator
 * summaries such as /status, and everything after the last entry shown for a
 * rehearsal's transcript. Erased entries (tombstones) are left out. Not for
 * verification: the verifier reads every entry through `readStoredLines`,
 * with what the stream says about each.
 */

/** Seqs asked for in one HMGET, so a long log is never one huge reply. */
const SLICE = 1000;

/** The newest `count` entries, newest first. */
export async function recentEntries(
  redis: Redis,
  caseId: string,
  count: number,
): Promise<AuditEntry[]> {
  const { seq } = await readHeadPosition(redis, caseId);
  return (await readSeqs(redis, caseId, Math.max(1, seq - count + 1), seq)).reverse();
}

/** The entries after `seq`, oldest first: `entriesSince(redis, caseId, 0)` is the whole log. */
export async function entriesSince(
  redis: Redis,
  caseId: string,
  seq: number,
): Promise<AuditEntry[]> {
  const head = await readHeadPosition(redis, caseId);
  return readSeqs(redis, caseId, seq + 1, head.seq);
}

/** Entries `from`…`to` (inclusive), oldest first, without tombstones. */
async function readSeqs(
  redis: Redis,
  caseId: string,
  from: number,
  to: number,
): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for (let start = from; start <= to; start += SLICE) {
    const seqs: string[] = [];
    for (let s = start; s <= Math.min(to, start + SLICE - 1); s++) seqs.push(String(s));
    for (const raw of await redis.hmget(auditKeys.payloads(caseId), ...seqs)) {
      if (!raw) continue;
      const parsed = JSON.parse(raw) as Partial<AuditEntry>;
      // A tombstone has a seq but no op.
      if (typeof parsed.seq === "number" && typeof parsed.op === "string")
        entries.push(parsed as AuditEntry);
    }
  }
  return entries;
}
