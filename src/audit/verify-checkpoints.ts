import {
  type Checkpoint,
  checkCheckpointSignature,
  checkpointOrigin,
  parseCheckpoint,
  type Verifier,
} from "./checkpoint.ts";
import { type Cosigned, checkCosignatures, cosignedAt } from "./cosignature.ts";
import { type HexFrontier, hexFrontierRoot } from "./merkle.ts";
import { fail, type Warnings, warn } from "./verify-findings.ts";

/**
 * The verifier's checks of checkpoints: that each is well formed, for this
 * case, and signed by a trusted key (before any line is read), that the tree
 * of the entries has each one's root when it reaches its size, and that the
 * log is not shorter than any of them.
 *
 * With witness keys, the cosignatures on them too: a checkpoint a witness
 * cosigned fixes the first entries of the log as the witness saw them, so a
 * log that no longer has its root was rewritten after the witness looked,
 * whoever re-signed the rest with the operator's key; and each witness's
 * largest cosigned size says how much of the log it vouches for.
 */

export interface CheckpointOptions {
  caseId: string;
  /** Signed notes stored with the log or shipped in the bundle. */
  checkpoints?: readonly string[];
  /** Keys trusted to sign checkpoints. None: signatures are not checked, which is a warning. */
  verifiers?: readonly Verifier[];
  /** A checkpoint the auditor kept from an earlier export: the log must still extend it. */
  heldCheckpoint?: string;
  /**
   * With keys to check against, every entry must be covered by a checkpoint
   * one of them signed: a bundle is handed over whole, so an uncovered entry
   * is one anybody could have written (a live log's tail since its last
   * checkpoint is only warned about).
   */
  requireSigned?: boolean;
  /** Witness keys: their cosignatures are checked, and a log that contradicts one fails. */
  witnesses?: readonly Verifier[];
}

/** How much of the log one witness vouches for: its largest cosigned checkpoint (size 0: none). */
export interface WitnessCoverage {
  name: string;
  keyId: string;
  size: number;
  /** When it cosigned that checkpoint (POSIX seconds). */
  time?: number;
}

export interface CheckpointState {
  /** Checkpoints to compare with the tree, by size (none of size 0). */
  pending: Checkpoint[];
  /** Index in `pending` of the next one the tree will reach. */
  next: number;
  /** The largest tree size covered by a checkpoint whose signature was checked. */
  signedSize: number;
  /** The witnesses' valid cosignatures, by checkpoint. */
  witnessed: Map<Checkpoint, Cosigned[]>;
  /** The largest size a witness cosigned whose root the entries had: the log is as witnessed up to here. */
  witnessedMatched: number;
  coverage: Map<Verifier, { size: number; time: number }>;
}

export function newCheckpointState(): CheckpointState {
  return {
    pending: [],
    next: 0,
    signedSize: 0,
    witnessed: new Map(),
    witnessedMatched: 0,
    coverage: new Map(),
  };
}

/** Records the witnesses' cosignatures on `cp`; fails at one that does not verify. */
function noteCosignatures(state: CheckpointState, cp: Checkpoint, witnesses: readonly Verifier[]) {
  if (witnesses.length === 0) return;
  const { cosigned, problem } = checkCosignatures(cp, witnesses);
  if (problem) fail(cp.size, problem);
  if (cosigned.length === 0) return;
  state.witnessed.set(cp, cosigned);
  for (const { witness, time } of cosigned) {
    const known = state.coverage.get(witness);
    if (!known || cp.size > known.size || (cp.size === known.size && time > known.time))
      state.coverage.set(witness, { size: cp.size, time });
  }
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
    noteCosignatures(state, cp, opts.witnesses ?? []);
    pending.push(cp);
  }
  if (opts.checkpoints?.length && verifiers.length === 0) {
    warn(
      warnings,
      undefined,
      "checkpoint signatures were NOT checked: no public key given (pass --pubkey with the key from the case officer)",
    );
  }
  if (opts.heldCheckpoint !== undefined) {
    const held = readHeldCheckpoint(opts.heldCheckpoint, origin, verifiers, warnings);
    noteCosignatures(state, held, opts.witnesses ?? []);
    pending.push(held);
  }
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
    const witnessed = state.witnessed.get(cp);
    if (!hexFrontierRoot(tree).equals(cp.root)) {
      if (witnessed) failWitnessed(state, witnessed, size);
      fail(
        size,
        `entries 1–${size} do not match the signed checkpoint for tree size ${size}: an entry up to seq ${size} was changed, inserted or removed`,
      );
    }
    if (witnessed) state.witnessedMatched = Math.max(state.witnessedMatched, size);
    state.next++;
  }
}

/**
 * The entries contradict a checkpoint a witness cosigned: they were rewritten
 * after the witness saw them, and the key that signed the rest proves nothing
 * against that. Named from the first seq past the last witnessed checkpoint
 * they still match.
 */
function failWitnessed(
  state: CheckpointState,
  witnessed: readonly Cosigned[],
  size: number,
): never {
  const from = state.witnessedMatched + 1;
  const by = witnessed.map((c) => `${c.witness.name} on ${cosignedAt(c.time)}`).join(" and ");
  fail(
    from,
    `entries 1–${size} do not match the checkpoint for tree size ${size} that witness ${by} cosigned: the log was rewritten after the witness saw it, somewhere in seq ${from}–${size}, whatever key signed the checkpoints since`,
  );
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

/** With `requireSigned` and keys: fails at the first entry no checkpoint signed by one of them covers. */
export function checkCovered(state: CheckpointState, opts: CheckpointOptions, count: number): void {
  const verifiers = opts.verifiers ?? [];
  if (!opts.requireSigned || verifiers.length === 0 || state.signedSize >= count) return;
  const from = state.signedSize + 1;
  fail(
    from,
    `entries ${from}–${count} are not covered by a checkpoint signed by ${verifiers.map((v) => v.name).join(" or ")}: anybody could have written them; an export signs a checkpoint of every entry it holds, so ask for the bundle as it was exported`,
  );
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

/** With witness keys: fails if one of them cosigned nothing of a log that has entries. */
export function checkWitnessed(
  state: CheckpointState,
  opts: CheckpointOptions,
  count: number,
): void {
  if (count === 0) return;
  for (const witness of opts.witnesses ?? []) {
    if (state.coverage.has(witness)) continue;
    fail(
      1,
      `witness ${witness.name} (${witness.keyId.toString("hex")}) has cosigned no checkpoint of this log: none of it is vouched for by the witness; have it cosign (\`warden audit witness\`), pass the checkpoint it keeps with --checkpoint, or verify without --witness-pubkey`,
    );
  }
}

/** Each witness's largest cosigned checkpoint, in the order the keys were given. */
export function witnessCoverage(
  state: CheckpointState,
  opts: CheckpointOptions,
): WitnessCoverage[] {
  return (opts.witnesses ?? []).map((w) => {
    const c = state.coverage.get(w);
    return {
      name: w.name,
      keyId: w.keyId.toString("hex"),
      size: c?.size ?? 0,
      ...(c ? { time: c.time } : {}),
    };
  });
}
