import { type Checkpoint, checkCheckpointSignature, parseCheckpoint } from "./checkpoint.ts";
import { type ProvenConsistency, verifyConsistency } from "./consistency.ts";
import { addSignatureLine, cosignatureLine, cosignedAt } from "./cosignature.ts";
import type { Signer, Verifier } from "./note-keys.ts";
import type { WitnessedCheckpoint, WitnessState } from "./witness-state.ts";

/**
 * The witness: a second key, held outside the operating team (oversight, the
 * prosecutor's office), that cosigns a log's checkpoint only once it is
 * convinced the log grew by appending. Whoever holds the operator's key can
 * rewrite history and sign it again; they cannot get the witness to cosign
 * the rewrite, because the witness remembers the last tree it cosigned and
 * demands an RFC 6962 consistency proof from it to the new one.
 *
 * In order, for a checkpoint offered:
 *
 * 1. it parses, is of the log asked for, and the operator's key signed it;
 * 2. it is not smaller than the last one cosigned for its origin (a rollback),
 *    nor of the same size with another root (a fork);
 * 3. the log's own leaves give the checkpoint's root, and a consistency proof
 *    computed from them joins the last cosigned root to the new one
 *    (`verifyConsistency` is what decides: the leaves come from the log and
 *    are not trusted, the two roots are);
 * 4. the cosignature (C2SP cosignature/v1) is written to the witness's own
 *    record and flushed, and only then handed out.
 *
 * The first checkpoint of a log is cosigned on trust: there is nothing to
 * prove it against, and the witness says so.
 */

export interface WitnessRequest {
  /** The checkpoint offered, as a signed note. */
  note: string;
  /** The origin it must be of (`warden/<case>`). */
  origin: string;
  /** The operator's key: only checkpoints it signed are considered. */
  operator: Verifier;
  /** The witness's own key. */
  witness: Signer;
  state: WitnessState;
  /** The proof between two sizes of the log, computed from its leaves. */
  prove(m: number, n: number): Promise<ProvenConsistency>;
  /** Milliseconds since 1970. */
  now(): number;
}

export type WitnessResult =
  | {
      ok: true;
      /** The checkpoint with the witness's cosignature line added. */
      cosigned: string;
      checkpoint: Checkpoint;
      /** The checkpoint it was proved to extend; undefined for the first of its log. */
      previous: WitnessedCheckpoint | undefined;
    }
  | { ok: false; reason: string };

function refuse(reason: string): WitnessResult {
  return { ok: false, reason };
}

export async function witnessCheckpoint(req: WitnessRequest): Promise<WitnessResult> {
  if (req.witness.publicKey.equals(req.operator.publicKey)) {
    return refuse(
      "the witness key is the operator's key: a witness must hold a key of its own, outside the operating team (`warden audit witness keygen`)",
    );
  }
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(req.note);
  } catch (err) {
    return refuse(`the checkpoint offered is malformed: ${(err as Error).message}`);
  }
  if (cp.origin !== req.origin)
    return refuse(`the checkpoint offered is of "${cp.origin}", not of "${req.origin}"`);
  const unsigned = checkCheckpointSignature(cp, [req.operator]);
  if (unsigned) return refuse(`checkpoint ${cp.size} of ${cp.origin}: ${unsigned}`);
  if (cp.size === 0)
    return refuse("the checkpoint offered is of an empty log: nothing to vouch for");

  const last = req.state.latest(cp.origin);
  const lastRoot = last ? Buffer.from(last.root, "base64") : undefined;
  if (last && lastRoot) {
    const when = cosignedAt(last.time);
    if (cp.size < last.size) {
      return refuse(
        `rollback: checkpoint ${cp.size} of ${cp.origin} is smaller than checkpoint ${last.size}, which this witness cosigned on ${when}: a log only grows, so entries ${cp.size + 1}–${last.size} were removed, or this is an old checkpoint replayed`,
      );
    }
    if (cp.size === last.size && !cp.root.equals(lastRoot)) {
      return refuse(
        `fork: checkpoint ${cp.size} of ${cp.origin} has another root than the checkpoint of the same size this witness cosigned on ${when}: the log was rewritten`,
      );
    }
  }

  let proven: ProvenConsistency;
  try {
    proven = await req.prove(last?.size ?? 0, cp.size);
  } catch (err) {
    return refuse(`no consistency proof could be made from the log: ${(err as Error).message}`);
  }
  if (!proven.newRoot.equals(cp.root)) {
    return refuse(
      `the log's first ${cp.size} entries do not have the root of its checkpoint ${cp.size}: the log or its checkpoint was altered (run \`warden audit verify\`); not cosigned`,
    );
  }
  if (last && lastRoot && !verifyConsistency(last.size, cp.size, lastRoot, cp.root, proven.proof)) {
    return refuse(
      `inconsistent: checkpoint ${cp.size} of ${cp.origin} does not extend checkpoint ${last.size}, which this witness cosigned on ${cosignedAt(last.time)}: entries 1–${last.size} were rewritten since (the log's first ${last.size} entries now have root ${proven.oldRoot.toString("base64")}, the witness cosigned ${last.root}); not cosigned, whatever key signed it`,
    );
  }

  // A cosignature says "the largest tree I have seen, as of this time": time never goes back.
  const time = Math.max(Math.floor(req.now() / 1000), last?.time ?? 0);
  const cosigned = addSignatureLine(cp.text, cosignatureLine(req.witness, cp.body, time));
  await req.state.record({
    origin: cp.origin,
    size: cp.size,
    root: cp.root.toString("base64"),
    time,
    note: cosigned,
    ...(last ? { previous: { size: last.size, root: last.root } } : {}),
  });
  return { ok: true, cosigned, checkpoint: cp, previous: last };
}
