import { BitSet } from "./bitset.ts";
import type { AuditEntry } from "./entry.ts";
import { UNERASABLE_OPS, whyUnerasable } from "./unerasable.ts";
import { fail, type Warnings, warn } from "./verify-findings.ts";

/**
 * The rules an entry is held to that need the entries before it: that its
 * actor held the role it acted in (the role history is rebuilt from the log),
 * that an outcome closes an intent still open, and that erasures and the
 * tombstones they left name each other. The verifier applies them in log
 * order, one entry at a time, keeping a few bits per seq.
 */

export interface RuleState {
  /** Telegram user id → the role held now. */
  roles: Map<number, string>;
  /** Seqs of intents, and of intents an outcome closed. */
  intents: BitSet;
  closed: BitSet;
  /** Seqs whose payload is a tombstone, and those of them an erase entry has listed. */
  erased: BitSet;
  claimed: BitSet;
  erasedCount: number;
  /** Erase entry seq → tombstones naming it that it has not yet been read to account for. */
  tombstonesBy: Map<number, number>;
}

export function newRuleState(): RuleState {
  return {
    roles: new Map(),
    intents: new BitSet(),
    closed: new BitSet(),
    erased: new BitSet(),
    claimed: new BitSet(),
    erasedCount: 0,
    tombstonesBy: new Map(),
  };
}

/** Expands an erase entry's `params.ranges` ([[from, to], …]) or `params.seqs`. */
export function erasedSeqsOf(entry: AuditEntry): number[] {
  const out: number[] = [];
  const ranges = entry.params?.ranges;
  if (Array.isArray(ranges)) {
    for (const r of ranges) {
      if (Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) {
        for (let s = r[0] as number; s <= (r[1] as number); s++) out.push(s);
      }
    }
  }
  const seqs = entry.params?.seqs;
  if (Array.isArray(seqs)) for (const s of seqs) if (Number.isSafeInteger(s)) out.push(s as number);
  return out;
}

/**
 * Applies every rule to an entry that passed its own checks and chains on the
 * one before it. The role change an entry records takes effect before its
 * own actor is checked, so an entry that changes its actor's role is held to
 * the new one.
 */
export function checkEntryRules(rules: RuleState, entry: AuditEntry, warnings: Warnings): void {
  applyRoleChange(rules, entry);
  checkActor(rules, entry);
  checkIntent(rules, entry);
  checkErasure(rules, entry, warnings);
}

/** role.add and role.remove change the history once they happened: as information, or an outcome that succeeded. */
function applyRoleChange(rules: RuleState, entry: AuditEntry): void {
  const counts = entry.phase === "info" || entry.phase === "outcome";
  const succeeded = entry.result === undefined || entry.result.ok === true;
  const user = entry.target?.user_ids?.[0];
  if (entry.op === "role.add" && counts && succeeded && user !== undefined) {
    rules.roles.set(user, String(entry.params?.role ?? ""));
  } else if (entry.op === "role.remove" && counts && succeeded && user !== undefined) {
    rules.roles.delete(user);
  }
}

/** Operators, supervisors and auditors act only in a role they held; people without one appear only on refusals. */
function checkActor(rules: RuleState, entry: AuditEntry): void {
  const { seq, actor } = entry;
  if (
    (actor.kind === "operator" || actor.kind === "supervisor" || actor.kind === "auditor") &&
    entry.phase !== "refused"
  ) {
    if (actor.id === undefined)
      fail(seq, `seq ${seq}: an ${actor.kind} acted without a Telegram id`);
    const held = rules.roles.get(actor.id);
    if (held !== actor.kind) {
      fail(
        seq,
        `seq ${seq}: user ${actor.id} acted as ${actor.kind} but held ${held ? `the role ${held}` : "no role"} in the case at that time`,
      );
    }
    if (actor.role !== undefined && actor.role !== held) {
      fail(
        seq,
        `seq ${seq}: the entry says user ${actor.id} held ${actor.role}, the role history says ${held}`,
      );
    }
  }
  if (actor.kind === "member" && entry.phase !== "refused") {
    fail(
      seq,
      `seq ${seq}: someone without a role (${actor.id ?? "unknown id"}) appears on a ${entry.phase} entry; only refusals may name them`,
    );
  }
}

/**
 * An intent opens; an outcome closes one, once. An erased intent may be
 * closed too: its tombstone no longer says it was an intent.
 */
function checkIntent(rules: RuleState, entry: AuditEntry): void {
  const { seq } = entry;
  if (entry.phase === "intent") rules.intents.add(seq);
  if (entry.phase === "outcome") {
    const of = entry.intent_seq as number;
    if (!rules.intents.has(of) && !rules.erased.has(of))
      fail(seq, `seq ${seq} is an outcome of seq ${of}, which is not an intent`);
    if (rules.closed.has(of)) fail(seq, `seq ${seq} is a second outcome of intent seq ${of}`);
    rules.closed.add(of);
  }
}

/**
 * An erase entry lists only earlier seqs, and exactly the tombstones that
 * name it (a listed seq that still holds its payload is a warning); no other
 * entry may be named by a tombstone. Tombstones come before the erase entry
 * that made them, so by the time it is read they have all been counted.
 */
function checkErasure(rules: RuleState, entry: AuditEntry, warnings: Warnings): void {
  const { seq } = entry;
  const by = rules.tombstonesBy.get(seq);
  if (entry.op === "erase") {
    const listed = erasedSeqsOf(entry);
    if (listed.length > 0) checkErasedOps(entry, listed);
    let matched = 0;
    for (const s of listed) {
      if (s >= seq)
        fail(seq, `erase entry seq ${seq} lists seq ${s}, which is not earlier than itself`);
      if (rules.erased.has(s) && !rules.claimed.has(s)) {
        rules.claimed.add(s);
        matched++;
      } else if (!rules.erased.has(s)) {
        warn(warnings, s, `seq ${s} is listed as erased by seq ${seq} but still holds its payload`);
      }
    }
    if (matched !== (by ?? 0)) {
      fail(
        seq,
        `tombstones name seq ${seq} as their erasure, but it lists ${matched} of their ${by ?? 0} entries`,
      );
    }
    rules.tombstonesBy.delete(seq);
  } else if (by !== undefined) {
    fail(
      seq,
      `${by} entries claim to be erased by seq ${seq}, which is a ${entry.op}, not an erase`,
    );
  }
}

/**
 * An erase entry of audit payloads says which operations it erased
 * (`params.ops`: op → [[from, to], …], the same seqs as `params.ranges`). The
 * payloads are gone, so this is the only account of them the verifier has:
 * without it nothing shows that the log of consultation and disclosure, or an
 * entry the role history needs, was not among them.
 */
function checkErasedOps(entry: AuditEntry, listed: readonly number[]): void {
  const { seq } = entry;
  const ops = entry.params?.ops;
  if (typeof ops !== "object" || ops === null || Array.isArray(ops)) {
    fail(
      seq,
      `erase entry seq ${seq} does not say which operations it erased (params.ops): nothing shows that no consult, disclose or registry entry was among them`,
    );
  }
  const byOp = new Map<number, string>();
  for (const [op, ranges] of Object.entries(ops as Record<string, unknown>)) {
    for (const s of erasedSeqsOf({ ...entry, params: { ranges } })) {
      if (UNERASABLE_OPS.has(op))
        fail(seq, `erase entry seq ${seq} erased seq ${s}, a ${op} entry: ${whyUnerasable(op)}`);
      byOp.set(s, op);
    }
  }
  if (byOp.size !== new Set(listed).size || listed.some((s) => !byOp.has(s))) {
    fail(
      seq,
      `erase entry seq ${seq} lists other seqs by operation (params.ops) than it erased (params.ranges): its account of the erasure does not add up`,
    );
  }
}

/** A tombstone at `seq` that names erase entry `by`, a later seq (the caller checked). */
export function noteTombstone(rules: RuleState, seq: number, by: number): void {
  rules.erased.add(seq);
  rules.erasedCount++;
  rules.tombstonesBy.set(by, (rules.tombstonesBy.get(by) ?? 0) + 1);
}

/** At the end of the log: every tombstone's erase entry has been read. */
export function checkNoDanglingTombstones(rules: RuleState): void {
  for (const [by, n] of rules.tombstonesBy) {
    fail(
      by,
      `${n} entr${n === 1 ? "y is" : "ies are"} erased by seq ${by}, which is not in the log`,
    );
  }
}

/** At the end of a sound log of `count` entries: warns of intents still waiting for their outcome. */
export function warnOpenIntents(rules: RuleState, count: number, warnings: Warnings): void {
  for (let s = 1; s <= count; s++) {
    if (rules.intents.has(s) && !rules.closed.has(s)) {
      warn(
        warnings,
        s,
        `intent seq ${s} has no outcome yet: the action is in flight, or its process crashed and the intent is closed as unknown at the next start`,
      );
    }
  }
}
