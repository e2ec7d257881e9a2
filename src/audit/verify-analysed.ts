import { ACTOR_KINDS, type AuditEntry, PHASES } from "./entry.ts";
import type { StoredLine } from "./storage.ts";
import { acceptLeaf, type Chain, checkClock, type LineInput } from "./verify-chain.ts";
import {
  CODES,
  ENTRY,
  KIND_MASK,
  type LineFacts,
  NUMS,
  PREV_OK,
  ROLE_CODES,
  TOMBSTONE,
} from "./verify-lines.ts";
import { noteTombstone } from "./verify-rules.ts";

/**
 * `checkLine` for a line a worker thread has analysed (`verify-lines.ts`): the
 * worker checked what needs no other line, so what is left is what only the
 * in-order pass knows (the prev of a batch's first line, the roles, the open
 * intents, the tombstones naming the entry). It answers false, having changed
 * nothing, unless the facts show the line sound; the caller then runs
 * `checkLine` on it, which finds the problem and words it as it always has,
 * so reports do not depend on the threads.
 */

const INTENT = PHASES.indexOf("intent");
const OUTCOME = PHASES.indexOf("outcome");
const REFUSED = PHASES.indexOf("refused");
const MEMBER = ACTOR_KINDS.indexOf("member");
/** Actor kinds whose role the history must show, by code. */
const ROLE_KINDS: (string | undefined)[] = ACTOR_KINDS.map((k) =>
  k === "operator" || k === "supervisor" || k === "auditor" ? k : undefined,
);

/** Checks line `i` of an analysed batch and accepts it if it is sound; false otherwise. */
export function checkAnalysedLine(
  chain: Chain,
  item: LineInput,
  facts: LineFacts,
  i: number,
  stamps: readonly string[],
): boolean {
  const expected = chain.count + 1;
  let line: string;
  let storedHash: string | undefined;
  if (typeof item === "string") line = item;
  else {
    if (!isWhereStreamSays(item, expected)) return false;
    line = item.line as string;
    storedHash = item.hash;
  }
  const leafHex = facts.leaves.slice(i * 64, i * 64 + 64);
  if (storedHash !== undefined && storedHash !== leafHex) return false;
  const kind = (facts.kinds[i] as number) & KIND_MASK;
  if (kind === ENTRY) {
    if (!isSoundEntry(chain, facts, i, expected)) return false;
    acceptEntry(chain, facts, i, expected, line, stamps[i] as string);
  } else if (kind === TOMBSTONE) {
    if (!acceptTombstone(chain, facts, i, expected, line)) return false;
  } else return false;
  acceptLeaf(chain, leafHex);
  return true;
}

/** A line from Redis that the stream puts at `expected`, with its payload. */
function isWhereStreamSays(item: StoredLine, expected: number): boolean {
  return (item.seq === undefined || item.seq === expected) && item.line !== null;
}

/** `checkEntryRules`' checks, for an entry that is not role.add, role.remove or erase. */
function isSoundEntry(chain: Chain, facts: LineFacts, i: number, expected: number): boolean {
  const prevOk =
    i === 0 ? facts.firstPrev === chain.prev : ((facts.kinds[i] as number) & PREV_OK) !== 0;
  if (!prevOk) return false;
  const { roles, intents, closed, erased, tombstonesBy } = chain.rules;
  const phase = facts.codes[i * CODES] as number;
  const actorKind = facts.codes[i * CODES + 1] as number;
  const roleCode = facts.codes[i * CODES + 2] as number;
  const actorId = facts.nums[i * NUMS] as number;
  const intentSeq = facts.nums[i * NUMS + 1] as number;
  if (phase !== REFUSED) {
    const roleKind = ROLE_KINDS[actorKind];
    if (roleKind !== undefined) {
      const held = Number.isNaN(actorId) ? undefined : roles.get(actorId);
      if (held !== roleKind) return false;
      if (roleCode !== 0 && ROLE_CODES[roleCode] !== held) return false;
    } else if (actorKind === MEMBER) return false;
  }
  if (
    phase === OUTCOME &&
    ((!intents.has(intentSeq) && !erased.has(intentSeq)) || closed.has(intentSeq))
  )
    return false;
  if (tombstonesBy.size > 0 && tombstonesBy.has(expected)) return false;
  return true;
}

/** Records a sound entry: what follows only records it. */
function acceptEntry(
  chain: Chain,
  facts: LineFacts,
  i: number,
  expected: number,
  line: string,
  ts: string,
): void {
  checkClock(chain, expected, ts);
  const phase = facts.codes[i * CODES] as number;
  if (phase === INTENT) chain.rules.intents.add(expected);
  else if (phase === OUTCOME) chain.rules.closed.add(facts.nums[i * NUMS + 1] as number);
  chain.opts.onEntry?.(JSON.parse(line) as AuditEntry, expected, line);
}

/** Records a tombstone whose seq and erase entry are as they must be; false, changing nothing, if not. */
function acceptTombstone(
  chain: Chain,
  facts: LineFacts,
  i: number,
  expected: number,
  line: string,
): boolean {
  const seq = facts.nums[i * NUMS] as number;
  const by = facts.nums[i * NUMS + 1] as number;
  if (seq !== expected || by <= expected) return false;
  noteTombstone(chain.rules, expected, by);
  chain.opts.onEntry?.(undefined, expected, line);
  return true;
}
