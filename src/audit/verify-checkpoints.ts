import {
  type Checkpoint,
  checkCheckpointSignature,
  checkpointOrigin,
  parseCheckpoint,
  type Verifier,
} from "./checkpoint.ts";
import { type HexFrontier, hexFrontierRoot } from "./merkle.ts";
import { fail, type Warnings, warn } from "./verify-findings.ts";

/**
 * The verifier's checks of checkpoints: that each is well formed, for this
 * case, and signed by a trusted key (before any line is read), that the tree
 * of the entries has each one's root when it reaches its size, and that the
 * log is not shorter than any of them.
 */

export interface CheckpointOptions {
  caseId: string;
  /** Signed notes stored with the log or shipped in the bundle. */
  checkpoints?: readonly string[];
  /** Keys trusted to sign checkpoints. None: signatures are not checked, which is a warning. */
  verifiers?: readonly Verifier[];
  /** A checkpoint the auditor kept from an earlier export: the log must still extend it. */
  heldCheckpoint?: string;
}

export interface CheckpointState {
  /** Checkpoints to compare with the tree, by size (none of size 0). */
  pending: Checkpoint[];
  /** Index in `pending` of the next one the tree will reach. */
  next: number;
  /** The largest tree size covered by a checkpoint whose signature was checked. */
  signedSize: number;
}

export function newCheckpointState(): CheckpointState {
  return { pending: [], next: 0, signedSize: 0 };
}

/**
 * Parses the checkpoints and checks their origins and signatures, which do
 * not depend on the entries; fails at the first that does not hold. They are
 * all read before the first line: the tree is held only as its right edge, so
 * each root can be compared only at the moment the tree reaches its size.
 */
export function readCheckpoints(
  state: CheckpointState,
  opts: CheckpointOptions,
  warnings: Warnings,
): void {
  const origin = checkpointOrigin(opts.caseId);
  const verifiers = opts.verifiers ?? [];
  const pending: Checkpoint[] = [];
  for (const [i, text] of (opts.checkpoints ?? []).entries()) {
    let cp: Checkpoint;
    try {
      cp = parseCheckpoint(text);
    } catch (err) {
      fail(undefined, `checkpoint #${i + 1} is malformed: ${(err as Error).message}`);
    }
    if (cp.origin !== origin)
      fail(cp.size, `checkpoint for size ${cp.size} is for "${cp.origin}", not "${origin}"`);
    if (verifiers.length > 0) {
      const problem = checkCheckpointSignature(cp, verifiers);
      if (problem) fail(cp.size, `checkpoint for tree size ${cp.size}: ${problem}`);
      state.signedSize = Math.max(state.signedSize, cp.size);
    }
    pending.push(cp);
  }
  if (opts.checkpoints?.length && verifiers.length === 0) {
    warn(
      warnings,
      undefined,
      "checkpoint signatures were NOT checked: no public key given (pass --pubkey with the key from the case officer)",
    );
  }
  if (opts.heldCheckpoint !== undefined)
    pending.push(readHeldCheckpoint(opts.heldCheckpoint, origin, verifiers, warnings));
  state.pending = pending.filter((cp) => cp.size > 0).sort((a, b) => a.size - b.size);
}

/** The auditor's own checkpoint: checked like the others, but it does not count as stored signatures. */
function readHeldCheckpoint(
  text: string,
  origin: string,
  verifiers: readonly Verifier[],
  warnings: Warnings,
): Checkpoint {
  let held: Checkpoint;
  try {
    held = parseCheckpoint(text);
  } catch (err) {
    fail(undefined, `the auditor's checkpoint is malformed: ${(err as Error).message}`);
  }
  if (held.origin !== origin)
    fail(undefined, `the auditor's checkpoint is for "${held.origin}", not "${origin}"`);
  if (verifiers.length > 0) {
    const problem = checkCheckpointSignature(held, verifiers);
    if (problem) fail(held.size, `the auditor's checkpoint for size ${held.size}: ${problem}`);
  } else {
    warn(
      warnings,
      undefined,
      "the auditor's checkpoint signature was NOT checked: no public key given",
    );
  }
  return held;
}

/** With the tree at `size` entries: compares its root with every checkpoint of that size. */
export function checkRootsAt(state: CheckpointState, tree: HexFrontier, size: number): void {
  while (state.pending[state.next] && (state.pending[state.next] as Checkpoint).size === size) {
    const cp = state.pending[state.next] as Checkpoint;
    if (!hexFrontierRoot(tree).equals(cp.root)) {
      fail(
        size,
        `entries 1–${size} do not match the signed checkpoint for tree size ${size}: an entry up to seq ${size} was changed, inserted or removed`,
      );
    }
    state.next++;
  }
}

/** At the end of a log of `count` entries: no checkpoint may cover more. */
export function checkNoneBeyond(state: CheckpointState, count: number): void {
  const beyond = state.pending[state.next];
  if (beyond) {
    fail(
      count + 1,
      `the log ends at seq ${count}, but a checkpoint covers ${beyond.size} entries: the tail from seq ${count + 1} was removed`,
    );
  }
}

/** At the end of a sound log of `count` entries: warns of entries no signed checkpoint covers. */
export function warnUnsigned(
  state: CheckpointState,
  opts: CheckpointOptions,
  count: number,
  warnings: Warnings,
): void {
  const { signedSize } = state;
  if ((opts.verifiers ?? []).length > 0 && signedSize < count) {
    warn(
      warnings,
      signedSize + 1,
      `entries ${signedSize + 1}–${count} are not covered by a signed checkpoint: only the hash chain protects them`,
    );
  } else if ((opts.verifiers ?? []).length === 0 && !opts.checkpoints?.length && count > 0) {
    warn(warnings, 1, `no checkpoints: entries 1–${count} are protected by the hash chain only`);
  }
}
