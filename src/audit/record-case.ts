import { getCase } from "../store/cases.ts";
import type { Redis } from "../store/redis.ts";
import type { HexFrontier } from "./merkle.ts";
import type { Pending } from "./record-queue.ts";
import type { StoredHead } from "./storage.ts";

/**
 * What one `AuditLog` keeps per case it writes to: the calls waiting to be
 * appended, its view of the head, the tree it last appended and signed, and
 * the case's authority and purpose for entries that leave them out.
 */
export interface CaseState {
  queue: Pending[];
  /** Whether a flush is running for the case (see `startFlushing`). */
  flushing: boolean;
  /** Resolves when the queue has run empty and nothing is in flight. */
  drained: Promise<void>;
  onDrained?: () => void;
  /**
   * Our cached view of the head, or with batches in flight the head the last
   * of them will leave; dropped whenever another writer may have moved it.
   */
  head?: StoredHead;
  /** The tree as of our own last append: the only state this process signs. */
  ours?: HexFrontier;
  /** The largest tree size signed so far. */
  signedSize: number;
  /** Settles when every checkpoint started so far is stored (or failed). */
  checkpointing: Promise<unknown>;
  authority?: string;
  purpose?: string;
}

/** The state of `caseId`, created on first use. */
export function caseStateOf(cases: Map<string, CaseState>, caseId: string): CaseState {
  let st = cases.get(caseId);
  if (!st) {
    st = {
      queue: [],
      flushing: false,
      drained: Promise.resolve(),
      signedSize: 0,
      checkpointing: Promise.resolve(),
    };
    cases.set(caseId, st);
  }
  return st;
}

/**
 * Reads the case's authority and purpose once, the first time a batch has an
 * entry that leaves them to the case; others never need the case record.
 */
export async function loadCaseDefaults(
  redis: Redis,
  caseId: string,
  st: CaseState,
  batch: readonly Pending[],
): Promise<void> {
  if (st.authority !== undefined) return;
  if (batch.every((p) => p.input.authority !== undefined && p.input.purpose !== undefined)) return;
  const record = await getCase(redis, caseId);
  if (record) {
    st.authority = record.authority;
    st.purpose = record.purpose;
  }
}
