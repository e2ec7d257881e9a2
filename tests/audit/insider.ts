import type { Redis } from "ioredis";
import { parseCheckpoint, type Signer, signCheckpoint } from "../../src/audit/checkpoint.ts";
import { canonicalBytes, GENESIS_PREV } from "../../src/audit/entry.ts";
import {
  appendLeafHex,
  emptyHexFrontier,
  encodeHexFrontier,
  hexFrontierRoot,
  leafHashHex,
} from "../../src/audit/merkle.ts";
import { auditKeys, readCheckpointNotes } from "../../src/audit/storage.ts";

/**
 * The insider the witness exists for: someone with the server's audit
 * signing key and full access to Redis. They rewrite the log's entries,
 * rebuild the chain, the stream (so its counters agree), the head and the
 * Merkle frontier, and sign every checkpoint again, at the sizes it had and
 * at the new end: to the operator's key alone the result is a sound log.
 */
export async function insiderRewrite(
  redis: Redis,
  caseId: string,
  signer: Signer,
  edit: (entries: Record<string, unknown>[]) => Record<string, unknown>[],
  opts: { dropCosignatures: boolean },
): Promise<void> {
  const stored = await redis.hgetall(auditKeys.payloads(caseId));
  const entries = Object.entries(stored)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, line]) => JSON.parse(line) as Record<string, unknown>);
  const sizes = (await readCheckpointNotes(redis, caseId)).map((n) => parseCheckpoint(n).size);
  const rewritten = edit(entries);
  const keys = [
    auditKeys.stream(caseId),
    auditKeys.payloads(caseId),
    auditKeys.head(caseId),
    auditKeys.checkpoints(caseId),
  ];
  await redis.del(...keys, ...(opts.dropCosignatures ? [auditKeys.cosignatures(caseId)] : []));
  const tree = emptyHexFrontier();
  let prev = GENESIS_PREV;
  const n = rewritten.length;
  const signAt = new Set([...sizes.filter((s) => s <= n), n]);
  for (const [i, entry] of rewritten.entries()) {
    const seq = i + 1;
    const line = canonicalBytes({ ...entry, seq, prev });
    prev = leafHashHex(line);
    appendLeafHex(tree, prev);
    await redis.xadd(auditKeys.stream(caseId), `0-${seq}`, "h", prev);
    await redis.hset(auditKeys.payloads(caseId), String(seq), line);
    if (signAt.has(seq)) {
      const note = signCheckpoint(signer, `warden/${caseId}`, seq, hexFrontierRoot(tree));
      await redis.xadd(auditKeys.checkpoints(caseId), `0-${seq}`, "n", note);
    }
  }
  await redis.hset(auditKeys.head(caseId), {
    seq: n,
    hash: prev,
    ts: String(rewritten.at(-1)?.ts ?? ""),
    frontier: encodeHexFrontier(tree),
  });
}
