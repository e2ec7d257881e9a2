import type { Redis } from "ioredis";
import { type HoleRecord, holesOfKey, keyGlob } from "./layout/match.ts";
import type { KeyShape } from "./layout/shape.ts";

/**
 * Every key of one declared shape in one case, with its holes read back:
 * for the rare jobs that must find keys rather than build them (the chats a
 * case has messages of, the approvals still pending when a case closes).
 * SCAN, so Redis is never blocked, and the case's hash tag keeps it to one
 * slot's worth of keys on a cluster.
 */
export async function caseKeysOf<S extends KeyShape & { scope: "case" }>(
  redis: Redis,
  shape: S,
  caseId: string,
): Promise<Array<{ key: string; holes: HoleRecord<S["pattern"]> }>> {
  const found: Array<{ key: string; holes: HoleRecord<S["pattern"]> }> = [];
  const pattern = keyGlob(shape, caseId);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const holes = holesOfKey(shape, key);
      if (holes) found.push({ key, holes });
    }
  } while (cursor !== "0");
  return found;
}
