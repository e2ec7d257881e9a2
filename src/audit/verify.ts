import type { Verifier } from "./checkpoint.ts";
import type { AuditEntry } from "./entry.ts";
import { hexFrontierRoot } from "./merkle.ts";
import { type Chain, newChain } from "./verify-chain.ts";
import {
  newCheckpointState,
  readCheckpoints,
  type WitnessCoverage,
  witnessCoverage,
} from "./verify-checkpoints.ts";
import { checkLogEnd, warnAtEnd } from "./verify-end.ts";
import { feedLines, type LineSource } from "./verify-feed.ts";
import { Failed, type Finding, newWarnings, summariseWarnings } from "./verify-findings.ts";
import { newRuleState } from "./verify-rules.ts";

export type { LineInput } from "./verify-chain.ts";
export type { WitnessCoverage } from "./verify-checkpoints.ts";
export { type LineSource, PARALLEL_FROM } from "./verify-feed.ts";
export type { Finding } from "./verify-findings.ts";
export { erasedSeqsOf } from "./verify-rules.ts";

/**
 * The verifier auditors run. It reads a log once, front to back, holding only
 * the tree's right edge and a few bits per entry, so a log of any length is
 * checked in constant memory; the same function checks a live log in Redis and
 * an exported bundle, which differ only in where the lines come from.
 *
 * It stops at the first failure, because after one everything else is suspect,
 * and names the seq where the log stops being trustworthy. In order: the
 * checkpoints (`verify-checkpoints.ts`), each line (`verify-chain.ts`, with the
 * rules of `verify-rules.ts`), then the end of the log (`verify-end.ts`).
 *
 * A long log is checked by more than one thread: past `parallelFrom` lines,
 * worker threads parse, check and hash batches of lines (`verify-feed.ts`,
 * `verify-lines.ts`, `verify-pool.ts`) while this thread runs the checks that
 * need the lines in order. A line the workers find anything unusual about is
 * checked here the one-thread way, so the findings and their words are the
 * same either way.
 */

export interface VerifyOptions {
  /** The case the log belongs to; every entry must name it, checkpoints must be for it. */
  caseId: string;
  /** Signed notes stored with the log or shipped in the bundle. */
  checkpoints?: readonly string[];
  /** Keys trusted to sign checkpoints. None: signatures are not checked, which is a warning. */
  verifiers?: readonly Verifier[];
  /** A checkpoint the auditor kept from an earlier export: the log must still extend it. */
  heldCheckpoint?: string;
  /** Fail at the first entry no checkpoint signed by `verifiers` covers (bundles); else it is a warning. */
  requireSigned?: boolean;
  /**
   * Witness keys: cosignatures by them are checked, a log that contradicts a
   * cosigned checkpoint fails, a witness that cosigned nothing fails, and the
   * report says how far each one's cosignatures reach.
   */
  witnesses?: readonly Verifier[];
  /** How far a timestamp may go back before it is flagged (default 2000 ms). */
  clockToleranceMs?: number;
  /** What Redis says the head is: the last entry must match it. */
  head?: { seq: number; hash: string };
  /** XINFO STREAM counters: entries added must equal entries held. */
  counters?: { length: number; entriesAdded: number };
  /** Called with each intact entry (undefined for an erased one), e.g. to build a report. */
  onEntry?(entry: AuditEntry | undefined, seq: number, line: string): void;
  /** Worker threads for the per-line checks of a long log; 0: none. Default min(cores − 1, 3), at least 1. */
  threads?: number;
  /**
   * Lines checked in this thread before worker threads join in (default
   * `PARALLEL_FROM`): a shorter log is done before workers would have started.
   */
  parallelFrom?: number;
}

export interface VerifyReport {
  /** Everything checked held; warnings may still need a look. */
  ok: boolean;
  /** The first failure; verification stopped there. */
  failure?: Finding;
  warnings: Finding[];
  /** Entries read (erased ones included). */
  entries: number;
  erased: number;
  /** The largest tree size covered by a checkpoint whose signature was checked. */
  signedSize: number;
  /** Root hash (hex) of the tree of all entries read. */
  root: string;
  /** With witness keys: how far each witness's cosignatures reach (compare with `entries`). */
  witnesses?: WitnessCoverage[];
}

export async function verifyEntries(lines: LineSource, opts: VerifyOptions): Promise<VerifyReport> {
  const chain = newChain(opts, newRuleState(), newCheckpointState(), newWarnings());
  try {
    // Checkpoints before the first line, the end of the log after the last: see each module.
    readCheckpoints(chain.checkpoints, opts, chain.warnings);
    await feedLines(chain, lines, opts);
    checkLogEnd(chain, opts);
    warnAtEnd(chain, opts);
    summariseWarnings(chain.warnings);
    return report(chain, opts);
  } catch (err) {
    if (!(err instanceof Failed)) throw err;
    return report(chain, opts, err.finding);
  }
}

/** The report on what was checked: all of the log, or the lines before a failure. */
function report(chain: Chain, opts: VerifyOptions, failure?: Finding): VerifyReport {
  const checked = {
    warnings: chain.warnings.list,
    entries: chain.count,
    erased: chain.rules.erasedCount,
    signedSize: chain.checkpoints.signedSize,
    root: hexFrontierRoot(chain.tree).toString("hex"),
    ...(opts.witnesses?.length ? { witnesses: witnessCoverage(chain.checkpoints, opts) } : {}),
  };
  return failure ? { ok: false, failure, ...checked } : { ok: true, ...checked };
}
