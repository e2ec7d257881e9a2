import type { Redis as Server } from "ioredis";
import { type HoleRecord, holesOfKey, keyGlob } from "./layout/match.ts";
import type { KeyShape } from "./layout/shape.ts";
import { isCluster, type Redis } from "./redis.ts";

/**
 * Every key matching `pattern` (a glob; every key without one), with SCAN, so
 * Redis is never blocked. A SCAN goes to one server, so on a cluster each
 * master is scanned in turn: the cluster client would send it to whichever
 * node it picked and see only that node's slots. A master lost while it is
 * scanned fails the scan (run it again once the replica has taken over).
 */
export async function scanKeys(redis: Redis, pattern?: string): Promise<string[]> {
  const servers: Server[] = isCluster(redis) ? redis.nodes("master") : [redis];
  const found: string[] = [];
  for (const server of servers) {
    let cursor = "0";
    do {
      const [next, keys] = pattern
        ? await server.scan(cursor, "MATCH", pattern, "COUNT", 1000)
        : await server.scan(cursor, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

/**
 * Every key of one declared shape in one case, with its holes read back:
 * for the rare jobs that must find keys rather than build them (the chats a
 * case has messages of, the approvals still pending when a case closes).
 * On a cluster the case's hash tag puts them all on one master, which the
 * others answer with nothing.
 */
export async function caseKeysOf<S extends KeyShape & { scope: "case" }>(
  redis: Redis,
  shape: S,
  caseId: string,
): Promise<Array<{ key: string; holes: HoleRecord<S["pattern"]> }>> {
  const found: Array<{ key: string; holes: HoleRecord<S["pattern"]> }> = [];
  for (const key of await scanKeys(redis, keyGlob(shape, caseId))) {
    const holes = holesOfKey(shape, key);
    if (holes) found.push({ key, holes });
  }
  return found;
}
