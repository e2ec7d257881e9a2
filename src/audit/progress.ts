import type { LineInput } from "./verify-chain.ts";
import type { LineSource } from "./verify-feed.ts";

/**
 * How far a long read of a log has come, for a progress line on a terminal:
 * `done` lines of about `total` (undefined when not known ahead, as for a
 * bundle's file). Called as lines are handed on, never more than once per
 * line, and cheap enough to leave on.
 */
export type ProgressReport = (done: number, total: number | undefined) => void;

/** The same lines (single or in batches), counted as they pass. */
export async function* countedLines(
  source: LineSource,
  total: number | undefined,
  report: ProgressReport,
): AsyncGenerator<LineInput | readonly LineInput[]> {
  let done = 0;
  for await (const item of source) {
    done += Array.isArray(item) ? item.length : 1;
    report(done, total);
    yield item;
  }
}
