import type { Redis } from "../store/redis.ts";
import { auditKeys } from "./storage.ts";

/**
 * Where a case's witness cosignatures are kept: a stream beside the
 * checkpoints (`warden:{case}:audit:cosignatures`, field `n`), one entry per
 * cosigned note as the witness returned it (the log's checkpoint with the
 * witness's cosignature line added). A witness run against a live case adds
 * its note here; a cosignature made on a bundle is added by an operator
 * (`warden audit witness import`). Exports put them into the bundle's
 * checkpoints, so auditors get them with the log.
 *
 * Nothing here needs trusting: a cosignature verifies against the witness's
 * key or it does not. Deleting one loses evidence but proves nothing false;
 * the witness keeps its own record (`witness-state.ts`).
 */

export async function addCosignedNote(redis: Redis, caseId: string, note: string): Promise<void> {
  await redis.xadd(auditKeys.cosignatures(caseId), "*", "n", note);
}

export async function readCosignedNotes(redis: Redis, caseId: string): Promise<string[]> {
  const page = (await redis.xrange(auditKeys.cosignatures(caseId), "-", "+")) as [
    string,
    string[],
  ][];
  return page.flatMap(([, fields]) => {
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === "n") return [fields[i + 1] ?? ""];
    return [];
  });
}
