import { type Actor, type AuditEntry, tombstoneBytes } from "./entry.ts";
import { type AuditLog, RecordRefusedError } from "./record.ts";
import { auditKeys, readStoredLines } from "./storage.ts";

/**
 * Erasure at the end of retention. The payload of an entry is replaced by a
 * tombstone that keeps its leaf hash, so the chain, the tree and every signed
 * checkpoint still verify; the erasure itself is an `erase` entry listing what
 * it erased, written in the same atomic step as the tombstones.
 */

/**
 * Entries the verifier needs to reconstruct who could act and why: erasing them
 * would make the rest of the log unverifiable, and they hold no collected data.
 */
export const UNERASABLE_OPS: ReadonlySet<string> = new Set([
  "role.add",
  "role.remove",
  "case.create",
  "case.close",
  "chat.add",
  "config",
  "erase",
  "checkpoint",
]);

export interface ErasureResult {
  /** The `erase` entry; undefined when nothing matched. */
  entry: AuditEntry | undefined;
  erased: number[];
}

/** Compresses sorted seqs to [[from, to], …] so an erasure of millions of entries stays one small entry. */
export function toRanges(seqs: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const s of seqs) {
    const last = ranges[ranges.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return ranges;
}

/**
 * Erases the payloads of the chosen entries: given seqs, or every entry the
 * predicate selects (e.g. `(e) => e.op === "collect" && Date.parse(e.ts) < cutoff`).
 * Entries already erased are skipped; registry entries (`UNERASABLE_OPS`) are refused.
 */
export async function eraseEntryPayloads(
  log: AuditLog,
  caseId: string,
  which: readonly number[] | ((entry: AuditEntry) => boolean),
  reason: string,
  actor: Actor = { kind: "system", name: "warden retention" },
): Promise<ErasureResult> {
  if (!reason.trim())
    throw new RecordRefusedError("an erasure needs a reason, e.g. 'retention of 180 days ended'");
  const wanted = typeof which === "function" ? undefined : new Set(which);
  const chosen: { seq: number; leaf: string }[] = [];
  const refused: string[] = [];
  for await (const stored of readStoredLines(log.redis, caseId)) {
    const seq = stored.seq ?? Number.NaN;
    if (!stored.line || stored.hash === undefined || Number.isNaN(seq)) continue;
    if (wanted && !wanted.has(seq)) continue;
    const entry = JSON.parse(stored.line) as AuditEntry | { erased_by: number };
    if ("erased_by" in entry) continue;
    if (typeof which === "function" && !which(entry)) continue;
    if (UNERASABLE_OPS.has(entry.op)) {
      refused.push(`${seq} (${entry.op})`);
      continue;
    }
    chosen.push({ seq, leaf: stored.hash });
  }
  if (wanted && refused.length > 0) {
    throw new RecordRefusedError(
      `entries ${refused.join(", ")} cannot be erased: the verifier needs them to check the rest of the log`,
    );
  }
  if (chosen.length === 0) return { entry: undefined, erased: [] };
  const payloads = auditKeys.payloads(caseId);
  const entry = await log.record(
    {
      case: caseId,
      actor,
      op: "erase",
      phase: "info",
      params: { ranges: toRanges(chosen.map((c) => c.seq)), reason },
    },
    {
      writes: (erase) =>
        chosen.map(
          ({ seq, leaf }) =>
            [
              "HSET",
              payloads,
              String(seq),
              tombstoneBytes({ erased_by: erase.seq, leaf, seq }),
            ] as const,
        ),
    },
  );
  return { entry, erased: chosen.map((c) => c.seq) };
}
