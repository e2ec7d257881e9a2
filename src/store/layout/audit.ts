import type { KeyShape } from "./shape.ts";

/**
 * The case's tamper-evident audit log (src/audit/storage.ts says how the
 * parts fit together; src/audit/README.md what an auditor checks).
 */
export const auditShapes = {
  stream: {
    scope: "case",
    pattern: "audit",
    type: "stream",
    owner: "audit",
    holds: "the audit log: one entry per seq, id `0-<seq>`, field `h` (leaf hash)",
  },
  head: {
    scope: "case",
    pattern: "audit:head",
    type: "hash",
    owner: "audit",
    holds: "the log's head: seq, hash of the last leaf, ts, Merkle frontier",
  },
  payloads: {
    scope: "case",
    pattern: "audit:entries",
    type: "hash",
    owner: "audit",
    holds: "seq → canonical entry bytes, or the tombstone of an erased payload",
  },
  openIntents: {
    scope: "case",
    pattern: "audit:intents",
    type: "hash",
    owner: "audit",
    holds:
      "intent seq → op (and, after a space, the id of the process that logged it), for intents still awaiting their outcome",
  },
  checkpoints: {
    scope: "case",
    pattern: "audit:checkpoints",
    type: "stream",
    owner: "audit",
    holds: "signed checkpoints, id `0-<tree size>`, field `n` (the signed note)",
  },
  cosignatures: {
    scope: "case",
    pattern: "audit:cosignatures",
    type: "stream",
    owner: "audit",
    holds:
      "checkpoints cosigned by a witness (`warden audit witness`), field `n` (the note with its cosignature lines); exports include them",
  },
} as const satisfies Record<string, KeyShape>;
