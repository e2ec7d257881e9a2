import type { Chain } from "./verify-chain.ts";
import {
  type CheckpointOptions,
  checkCovered,
  checkNoneBeyond,
  checkWitnessed,
  warnUnsigned,
} from "./verify-checkpoints.ts";
import { fail } from "./verify-findings.ts";
import { checkNoDanglingTombstones, warnOpenIntents } from "./verify-rules.ts";

/**
 * What the end of a log must agree with, once its last line has been checked:
 * the checkpoints, the erasures, and where it lives in Redis the head and the
 * stream's counters; then the warnings about what is still open or unsigned.
 */

export interface EndOptions extends CheckpointOptions {
  /** What Redis says the head is: the last entry must match it. */
  head?: { seq: number; hash: string };
  /** XINFO STREAM counters: entries added must equal entries held. */
  counters?: { length: number; entriesAdded: number };
}

/**
 * Fails at the first thing the end of the log disagrees with. Checkpoints
 * come first: a signed one cannot be made without the key, while the head and
 * the counters are only what Redis says, so a cut tail is named by what proves
 * it.
 */
export function checkLogEnd(chain: Chain, opts: EndOptions): void {
  const { count } = chain;
  checkNoneBeyond(chain.checkpoints, count);
  checkNoDanglingTombstones(chain.rules);
  checkCovered(chain.checkpoints, opts, count);
  checkWitnessed(chain.checkpoints, opts, count);
  if (opts.head && opts.head.seq !== count) {
    fail(
      Math.min(count, opts.head.seq) + 1,
      `the log's head says seq ${opts.head.seq}, but the stream ends at seq ${count}: entries were removed or the head was changed`,
    );
  }
  if (opts.head && count > 0 && opts.head.hash !== chain.prev) {
    fail(
      count,
      `seq ${count} does not match the hash in the log's head: the last entry was altered`,
    );
  }
  if (opts.counters && opts.counters.entriesAdded !== opts.counters.length) {
    fail(
      count + 1,
      `Redis added ${opts.counters.entriesAdded} entries to the stream but it holds ${opts.counters.length}: entries were deleted or trimmed (XDEL, XTRIM or XADD … MAXLEN)`,
    );
  }
}

/** Warnings about a sound log: intents still open, entries no signed checkpoint covers. */
export function warnAtEnd(chain: Chain, opts: EndOptions): void {
  warnOpenIntents(chain.rules, chain.count, chain.warnings);
  warnUnsigned(chain.checkpoints, opts, chain.count, chain.warnings);
}
