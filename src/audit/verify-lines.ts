import { ACTOR_KINDS, isAuditEntry, isCanonical, PHASES, tombstoneSchema } from "./entry.ts";
import { leafHashHex } from "./merkle.ts";

/**
 * The part of verifying a line that needs no other line: parse it, check its
 * canonical form and schema, hash it, and keep the few facts the in-order
 * checks of `verifyEntries` need. Worker threads run it on batches of a long
 * log (`verify-pool.ts`); the facts travel back as typed arrays and two
 * strings instead of parsed entries, which would cost more to copy than to
 * parse again.
 *
 * A line is answered ENTRY or TOMBSTONE only when every per-line check passed
 * and nothing about it needs the full entry; anything else is SLOW, and the
 * verifier runs its one-line-at-a-time check on it, which finds the problem
 * and words it exactly as it always has. SLOW lines are rare in a sound log:
 * role.add, role.remove and erase entries, and whatever is wrong.
 */

/** The verifier checks the line itself. */
export const SLOW = 0;
/** An entry that passed the per-line checks, with seq and case as expected. */
export const ENTRY = 1;
/** An erasure tombstone that passed its schema. */
export const TOMBSTONE = 2;
/** Flag on an ENTRY after the batch's first line: its prev is the leaf of the line before it. */
export const PREV_OK = 4;
export const KIND_MASK = 3;

/** Codes per line in `LineFacts.codes`. */
export const CODES = 3;
/** Numbers per line in `LineFacts.nums`. */
export const NUMS = 2;

/** Role codes: index in this list (0: the entry names no role). */
export const ROLE_CODES = [undefined, "operator", "supervisor", "auditor"] as const;

const SPECIAL_OPS = new Set(["role.add", "role.remove", "erase"]);
const PLACEHOLDER = "0".repeat(64);

export interface LineFacts {
  /** Per line: SLOW, ENTRY or TOMBSTONE, with PREV_OK. */
  kinds: Uint8Array;
  /** Per ENTRY line (CODES each): index of its phase in PHASES, of its actor kind in ACTOR_KINDS, of its actor role in ROLE_CODES. */
  codes: Uint8Array;
  /**
   * Per line (NUMS each): for an ENTRY, its actor id (NaN: none) and intent_seq
   * (0: none); for a TOMBSTONE, its seq and erased_by.
   */
  nums: Float64Array;
  /** Per line, 64 hex digits: the leaf hash of an ENTRY or TOMBSTONE line. */
  leaves: string;
  /** Per line, separated by \n: the timestamp of an ENTRY line ("" otherwise). */
  ts: string;
  /** The prev of the batch's first line, if it is an ENTRY. */
  firstPrev: string;
}

const phaseCode = new Map<string, number>(PHASES.map((p, i) => [p, i]));
const kindCode = new Map<string, number>(ACTOR_KINDS.map((k, i) => [k, i]));

/** Facts of `lines`, the lines with seqs `firstSeq`, `firstSeq + 1`, … of the log of `caseId`. */
export function analyseLines(
  lines: readonly string[],
  firstSeq: number,
  caseId: string,
): LineFacts {
  const n = lines.length;
  const kinds = new Uint8Array(n);
  const codes = new Uint8Array(n * CODES);
  const nums = new Float64Array(n * NUMS);
  const leaves: string[] = new Array(n);
  const ts: string[] = new Array(n);
  let firstPrev = "";
  // The leaf of the line before, where it is known.
  let before: string | undefined;
  for (let i = 0; i < n; i++) {
    const line = lines[i] as string;
    const expected = firstSeq + i;
    let kind = SLOW;
    let leaf: string | undefined;
    let stamp = "";
    let raw: unknown;
    let parsed = true;
    try {
      raw = JSON.parse(line);
    } catch {
      parsed = false;
    }
    if (parsed && isCanonical(line, raw)) {
      if (raw !== null && typeof raw === "object" && "erased_by" in raw) {
        const t = tombstoneSchema.safeParse(raw);
        if (t.success) {
          kind = TOMBSTONE;
          leaf = t.data.leaf;
          nums[i * NUMS] = t.data.seq;
          nums[i * NUMS + 1] = t.data.erased_by;
        }
      } else if (isAuditEntry(raw)) {
        const entry = raw;
        leaf = leafHashHex(line);
        if (entry.seq === expected && entry.case === caseId && !SPECIAL_OPS.has(entry.op)) {
          kind = ENTRY;
          if (i === 0) firstPrev = entry.prev;
          else if (before !== undefined && entry.prev === before) kind |= PREV_OK;
          stamp = entry.ts;
          const { actor } = entry;
          codes[i * CODES] = phaseCode.get(entry.phase) as number;
          codes[i * CODES + 1] = kindCode.get(actor.kind) as number;
          codes[i * CODES + 2] = actor.role === undefined ? 0 : ROLE_CODES.indexOf(actor.role);
          nums[i * NUMS] = actor.id ?? Number.NaN;
          nums[i * NUMS + 1] = entry.intent_seq ?? 0;
        }
      }
    }
    kinds[i] = kind;
    leaves[i] = leaf ?? PLACEHOLDER;
    ts[i] = stamp;
    before = leaf;
  }
  return { kinds, codes, nums, leaves: leaves.join(""), ts: ts.join("\n"), firstPrev };
}
