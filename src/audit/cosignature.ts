import type { Checkpoint } from "./checkpoint.ts";
import type { Signer, Verifier } from "./note-keys.ts";

/**
 * C2SP tlog-cosignature/v1 with Ed25519: a witness's statement that, at the
 * time it gives, the checkpoint is the largest consistent tree it has seen of
 * the log named by the checkpoint's origin. It is one more signature line on
 * the checkpoint's signed note:
 *
 *   — <witness name> base64(key id ‖ u64 big-endian timestamp ‖ Ed25519 signature)
 *
 * where the key id is that of a type 0x04 key (`note-keys.ts`) and the
 * signature covers "cosignature/v1\n" ‖ "time <timestamp>\n" ‖ the note's
 * body (origin, size, root, each line newline-terminated). The timestamp is
 * POSIX seconds.
 */

const HEADER = "cosignature/v1";
const SIGNATURE_DASH = "\u2014";
/** Largest timestamp the format allows: 2^63 − 1 (and, in practice, any date a Date can hold). */
const MAX_TIME = 2n ** 63n - 1n;

/** What the witness signs for a checkpoint body at a time. */
export function cosignatureMessage(body: string, time: number): string {
  return `${HEADER}\ntime ${time}\n${body}`;
}

/** The cosignature line (no newline) of `witness` on the checkpoint `body` at `time` (POSIX seconds). */
export function cosignatureLine(witness: Signer, body: string, time: number): string {
  if (!Number.isSafeInteger(time) || time < 0)
    throw new RangeError(`cosignature time ${time} is not whole seconds since 1970`);
  const stamp = Buffer.alloc(8);
  stamp.writeBigUInt64BE(BigInt(time));
  const signature = witness.sign(cosignatureMessage(body, time));
  const raw = Buffer.concat([witness.keyId, stamp, signature]);
  return `${SIGNATURE_DASH} ${witness.name} ${raw.toString("base64")}`;
}

/** The note with one more signature line, unless it carries that line already. */
export function addSignatureLine(note: string, line: string): string {
  const lines = note.endsWith("\n") ? note.slice(0, -1).split("\n") : note.split("\n");
  return lines.includes(line) ? note : `${note.endsWith("\n") ? note : `${note}\n`}${line}\n`;
}

/** A witness's valid cosignature on a checkpoint, and when it was made. */
export interface Cosigned {
  witness: Verifier;
  /** POSIX seconds. */
  time: number;
}

/**
 * The cosignatures of `witnesses` on `cp`, latest per witness. As the signed
 * note rules have it, lines by other keys are ignored, and a line by a known
 * witness key that does not verify is a failure: the reason is returned.
 */
export function checkCosignatures(
  cp: Checkpoint,
  witnesses: readonly Verifier[],
): { cosigned: Cosigned[]; problem?: string } {
  const cosigned = new Map<Verifier, number>();
  for (const s of cp.signatures) {
    const witness = witnesses.find((w) => w.name === s.name && w.keyId.equals(s.keyId));
    if (!witness) continue;
    const raw = s.signature;
    const stamp = raw.length === 72 ? raw.readBigUInt64BE(0) : undefined;
    if (stamp === undefined || stamp > MAX_TIME) {
      return {
        cosigned: [],
        problem: `the cosignature by witness ${witness.name} on checkpoint ${cp.size} is malformed: not a timestamped Ed25519 signature (cosignature/v1)`,
      };
    }
    const time = Number(stamp);
    if (!witness.verify(cosignatureMessage(cp.body, time), raw.subarray(8))) {
      return {
        cosigned: [],
        problem: `the cosignature by witness ${witness.name} on checkpoint ${cp.size} does not verify: the checkpoint or the cosignature was altered`,
      };
    }
    cosigned.set(witness, Math.max(cosigned.get(witness) ?? 0, time));
  }
  return { cosigned: [...cosigned].map(([witness, time]) => ({ witness, time })) };
}

/** A POSIX time as the UTC date and time people read. */
export function cosignedAt(time: number): string {
  return new Date(time * 1000).toISOString().replace(".000Z", "Z");
}
