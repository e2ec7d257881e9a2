import type { Redis } from "../store/redis.ts";
import { checkpointOrigin, type Signer, signCheckpoint } from "./checkpoint.ts";
import { cloneHexFrontier, type HexFrontier, hexFrontierRoot } from "./merkle.ts";
import type { CaseState } from "./record-case.ts";
import { auditKeys, readHead } from "./storage.ts";

/**
 * Signing checkpoints of the trees an `AuditLog` appended: every `every`
 * entries, on a timer while entries arrive, on request and when the log is
 * closed. Appends never wait for a checkpoint, nor fail with one: a
 * checkpoint that cannot be stored is only reported (`onError`).
 */

export interface CheckpointSigning {
  redis: Redis;
  /** None: the chain and tree grow unsigned. */
  signer: Signer | undefined;
  /** Sign after this many entries. */
  every: number;
  onError?: (err: Error, caseId: string) => void;
}

/**
 * Signs a checkpoint of `tree` and stores it; resolves to the note, or to
 * undefined without a signer, for an empty tree, or if it could not be stored.
 */
export function scheduleCheckpoint(
  signing: CheckpointSigning,
  caseId: string,
  st: CaseState,
  tree: HexFrontier,
): Promise<string | undefined> {
  const { signer } = signing;
  if (!signer || tree.size === 0) return Promise.resolve(undefined);
  st.signedSize = Math.max(st.signedSize, tree.size);
  const note = signCheckpoint(signer, checkpointOrigin(caseId), tree.size, hexFrontierRoot(tree));
  const stored = storeCheckpoint(signing.redis, caseId, tree.size, note).then(
    () => note,
    (err: Error) => {
      signing.onError?.(err, caseId);
      return undefined;
    },
  );
  st.checkpointing = Promise.all([st.checkpointing, stored]);
  return stored;
}

/** After an append: signs `tree` if `every` entries have been appended since the last checkpoint. */
export function signIfDue(
  signing: CheckpointSigning,
  caseId: string,
  st: CaseState,
  tree: HexFrontier,
): void {
  if (signing.signer && tree.size - st.signedSize >= signing.every) {
    try {
      scheduleCheckpoint(signing, caseId, st, cloneHexFrontier(tree));
    } catch (err) {
      // Appends never wait for (or fail with) a checkpoint.
      signing.onError?.(err as Error, caseId);
    }
  }
}

/** Signs each case's tree that has grown since its last checkpoint (on the timer, and at close). */
export function signUnsigned(signing: CheckpointSigning, cases: Map<string, CaseState>): void {
  for (const [caseId, st] of cases) {
    if (st.ours && st.ours.size > st.signedSize)
      scheduleCheckpoint(signing, caseId, st, cloneHexFrontier(st.ours));
  }
}

/** Signs what has grown every `intervalMs` while the process runs; undefined without a signer or interval. */
export function startCheckpointTimer(
  signing: CheckpointSigning,
  cases: Map<string, CaseState>,
  intervalMs: number,
): ReturnType<typeof setInterval> | undefined {
  if (!signing.signer || !(intervalMs > 0)) return undefined;
  const timer = setInterval(() => signUnsigned(signing, cases), intervalMs);
  timer.unref();
  return timer;
}

/**
 * `AuditLog.checkpoint`: once the case's pending appends have landed, signs
 * the tree this process last appended, or without one the tree at the head.
 */
export async function checkpointNow(
  signing: CheckpointSigning,
  caseId: string,
  st: CaseState,
): Promise<string | undefined> {
  await st.drained;
  const tree = st.ours ?? (await readHead(signing.redis, caseId)).frontier;
  const note = await scheduleCheckpoint(signing, caseId, st, cloneHexFrontier(tree));
  await st.checkpointing;
  return note;
}

/** Stores a signed note; a checkpoint for an equal or larger size stored by another writer wins. */
async function storeCheckpoint(
  redis: Redis,
  caseId: string,
  size: number,
  note: string,
): Promise<void> {
  try {
    await redis.xadd(auditKeys.checkpoints(caseId), `0-${size}`, "n", note);
  } catch (err) {
    if (/equal or smaller/i.test((err as Error).message)) return;
    throw err;
  }
}
