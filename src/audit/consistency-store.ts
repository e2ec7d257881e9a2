import type { Redis } from "../store/redis.ts";
import { type ProvenConsistency, proveConsistency } from "./consistency.ts";
import { readLeafHashes } from "./storage.ts";

/**
 * The consistency proof between sizes m and n of a case's log, computed from
 * the leaf hashes its stream holds (one pass, constant memory). Nothing here
 * is trusted: whoever checks the proof holds the two roots it must join, and
 * a stream that was rewritten yields a proof that does not join them.
 */
export function consistencyProofFromStore(
  redis: Redis,
  caseId: string,
  m: number,
  n: number,
): Promise<ProvenConsistency> {
  return proveConsistency(readLeafHashes(redis, caseId, n), m, n);
}
