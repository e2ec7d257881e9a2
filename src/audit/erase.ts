import { type Actor, type AuditEntry, tombstoneBytes } from "./entry.ts";
import { type AuditLog, RecordRefusedError } from "./record.ts";
import { auditKeys, readStoredLines } from "./storage.ts";
import { UNERASABLE_OPS, whyUnerasable } from "./unerasable.ts";

export { ACCESS_OPS, REGISTRY_OPS, UNERASABLE_OPS, whyUnerasable } from "./unerasable.ts";

/**
 * Erasure at the end of retention. The payload of an entry is replaced by a
 * tombstone that keeps its leaf hash, so the chain, the tree and every signed
 * checkpoint still verify; the erasure itself is an `erase` entry listing what
 * it erased, written in the same atomic step as the tombstones.
 */

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
 * Entries already erased are skipped; registry entries and the log of access
 * (`UNERASABLE_OPS`) are refused when named and skipped when selected.
 *
 * `actor` is whoever runs the erasure (the CLI's actor, the person at the
 * server): there is no default, so an erasure is never on the record as
 * nobody's. The erase entry lists the erased seqs by operation
 * (`params.ops`), which the verifier holds against the ops that may never be
 * erased. With `dryRun` nothing is written: the result lists what would go.
 */
export async function eraseEntryPayloads(
  log: AuditLog,
  caseId: string,
  which: readonly number[] | ((entry: AuditEntry) => boolean),
  reason: string,
  actor: Actor,
  opts: { dryRun?: boolean } = {},
): Promise<ErasureResult> {
  if (!reason.trim())
    throw new RecordRefusedError("an erasure needs a reason, e.g. 'retention of 180 days ended'");
  const wanted = typeof which === "function" ? undefined : new Set(which);
  const chosen: { seq: number; leaf: string; op: string }[] = [];
  const refused: { seq: number; op: string }[] = [];
  for await (const stored of readStoredLines(log.redis, caseId)) {
    const seq = stored.seq ?? Number.NaN;
    if (!stored.line || stored.hash === undefined || Number.isNaN(seq)) continue;
    if (wanted && !wanted.has(seq)) continue;
    const entry = JSON.parse(stored.line) as AuditEntry | { erased_by: number };
    if ("erased_by" in entry) continue;
    if (typeof which === "function" && !which(entry)) continue;
    if (UNERASABLE_OPS.has(entry.op)) {
      refused.push({ seq, op: entry.op });
      continue;
    }
    chosen.push({ seq, leaf: stored.hash, op: entry.op });
  }
  if (wanted && refused.length > 0) {
    throw new RecordRefusedError(
      `entries ${refused.map((r) => `${r.seq} (${r.op})`).join(", ")} cannot be erased: ${[...new Set(refused.map((r) => whyUnerasable(r.op)))].join("; ")}`,
    );
  }
  if (chosen.length === 0 || opts.dryRun)
    return { entry: undefined, erased: chosen.map((c) => c.seq) };
  const payloads = auditKeys.payloads(caseId);
  const entry = await log.record(
    {
      case: caseId,
      actor,
      op: "erase",
      phase: "info",
      params: { ranges: toRanges(chosen.map((c) => c.seq)), ops: rangesByOp(chosen), reason },
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

/** The erased seqs grouped by their entries' op, as ranges: what the erase entry says it erased. */
function rangesByOp(
  chosen: readonly { seq: number; op: string }[],
): Record<string, [number, number][]> {
  const seqs = new Map<string, number[]>();
  for (const { seq, op } of chosen) {
    const list = seqs.get(op);
    if (list) list.push(seq);
    else seqs.set(op, [seq]);
  }
  const out: Record<string, [number, number][]> = {};
  for (const op of [...seqs.keys()].sort()) out[op] = toRanges(seqs.get(op) as number[]);
  return out;
}
