import type { AuditEntry, AuditEntryInput } from "../../audit/entry.ts";
import type { AuditLog } from "../../audit/record.ts";

/**
 * The audit log as the rehearsal hands it to the bot, noting for each entry
 * which of the simulator's recorded Bot API calls came last before it was
 * written. The transcript prints each entry after that call and before the
 * next, so an action's outcome follows the call it reports, in the order
 * things happened — read from what the bot did, not from timing.
 */
export interface MarkedAudit {
  /** The log to give the bot and the case set-up. */
  log: AuditLog;
  /** The last simulator call before the entry was written; undefined for an entry not written through `log`. */
  markOf(caseId: string, seq: number): number | undefined;
  /** Forgets the marks of a case's entries up to `seq` (printed already). */
  forget(caseId: string, seq: number): void;
  /** Appends asked for and not acknowledged yet. */
  inFlight(): number;
  /** Entries written so far. */
  written(): number;
}

export function markedAudit(inner: AuditLog, lastCall: () => number): MarkedAudit {
  /** Case → seq → mark. */
  const marks = new Map<string, Map<number, number>>();
  const note = (e: AuditEntry, mark: number) => {
    const ofCase = marks.get(e.case) ?? new Map<number, number>();
    marks.set(e.case, ofCase.set(e.seq, mark));
  };
  let inFlight = 0;
  let written = 0;
  async function noted<T>(
    write: () => Promise<T>,
    entries: (result: T) => AuditEntry[],
  ): Promise<T> {
    const mark = lastCall();
    inFlight++;
    try {
      const result = await write();
      for (const e of entries(result)) note(e, mark);
      written += entries(result).length;
      return result;
    } finally {
      inFlight--;
    }
  }
  const log: AuditLog = {
    record: (entry: AuditEntryInput, opts) =>
      noted(
        () => inner.record(entry, opts),
        (e: AuditEntry) => [e],
      ),
    recordMany: (entries) =>
      noted(
        () => inner.recordMany(entries),
        (es: AuditEntry[]) => es,
      ),
    checkpoint: (caseId) => inner.checkpoint(caseId),
    close: () => inner.close(),
    get redis() {
      return inner.redis;
    },
    get signer() {
      return inner.signer;
    },
  };
  return {
    log,
    markOf: (caseId, seq) => marks.get(caseId)?.get(seq),
    forget(caseId, seq) {
      const ofCase = marks.get(caseId);
      for (const s of ofCase?.keys() ?? []) if (s <= seq) ofCase?.delete(s);
    },
    inFlight: () => inFlight,
    written: () => written,
  };
}
