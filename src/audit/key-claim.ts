import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { replicaKeys } from "../store/keys.ts";
import type { Signer } from "./note-keys.ts";

/**
 * Every process writing to one Redis signs its checkpoints with one key: a log
 * whose checkpoints were signed by two keys verifies against neither. The
 * first process to start stores the fingerprint of its public key; a process
 * started later with another key is refused before it writes anything. To
 * change the key on purpose, stop every process and delete the stored
 * fingerprint (`replicas.auditKey` in the key registry) before starting with
 * the new one.
 */

/** SHA-256 of the raw public key, hex: what is stored and compared (never the key itself). */
export function keyFingerprint(signer: Pick<Signer, "publicKey">): string {
  return createHash("sha256").update(signer.publicKey).digest("hex");
}

export type KeyClaim = { ok: true; first: boolean } | { ok: false; stored: string };

/** Stores this key's fingerprint if none is stored yet; otherwise compares. */
export async function claimAuditKey(redis: Redis, fingerprint: string): Promise<KeyClaim> {
  const key = replicaKeys.auditKey();
  const set = await redis.hsetnx(key, "fingerprint", fingerprint);
  if (set === 1) {
    await redis.hset(key, "at", Date.now());
    return { ok: true, first: true };
  }
  const stored = (await redis.hget(key, "fingerprint")) ?? "";
  return stored === fingerprint ? { ok: true, first: false } : { ok: false, stored };
}
