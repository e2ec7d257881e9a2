import { checkAnalysedLine } from "./verify-analysed.ts";
import { type Chain, checkLine, type LineInput } from "./verify-chain.ts";
import type { LineFacts } from "./verify-lines.ts";
import { defaultThreads, LinePool } from "./verify-pool.ts";

/**
 * Feeds a log's lines to the in-order checks. A short log is checked in this
 * thread only; past `parallelFrom` lines, worker threads parse, check and hash
 * batches of lines (`verify-pool.ts`) while this thread reads the log and runs
 * the checks that need the lines in order, on the workers' facts
 * (`checkAnalysedLine`).
 */

/** Below this many lines, a log is verified in the calling thread only. */
export const PARALLEL_FROM = 20_000;
/** Lines per batch handed to a worker. */
const BATCH_LINES = 2048;

/**
 * Lines in log order, one by one or in batches (arrays): a batch saves an
 * `await` per line, see `readLineBatches`.
 */
export type LineSource =
  | AsyncIterable<LineInput | readonly LineInput[]>
  | Iterable<LineInput | readonly LineInput[]>;

export interface FeedOptions {
  /** Worker threads for the per-line checks of a long log; 0: none. Default min(cores − 1, 3), at least 1. */
  threads?: number;
  /** Lines checked in this thread before worker threads join in (default `PARALLEL_FROM`). */
  parallelFrom?: number;
}

interface Feed {
  chain: Chain;
  threads: number;
  parallelFrom: number;
  /** Lines taken from the source; past `parallelFrom` they go to `pool` in batches. */
  seen: number;
  batch: LineInput[];
  pool?: LinePool<LineInput>;
}

/** Checks every line of `lines`, in order; throws `Failed` at the first problem. */
export async function feedLines(chain: Chain, lines: LineSource, opts: FeedOptions): Promise<void> {
  const feed: Feed = {
    chain,
    threads: opts.threads ?? defaultThreads(),
    parallelFrom: opts.parallelFrom ?? PARALLEL_FROM,
    seen: 0,
    batch: [],
  };
  try {
    for await (const item of lines) {
      if (Array.isArray(item)) {
        for (const one of item as readonly LineInput[]) if (take(feed, one)) await flush(feed);
      } else if (take(feed, item as LineInput)) await flush(feed);
    }
    await flush(feed);
    while (feed.pool && feed.pool.size > 0) await checkBatch(feed);
  } finally {
    await feed.pool?.close();
  }
}

/**
 * Checks a line at once, or, once the pool is running, adds it to the batch
 * being gathered; true when that batch is full.
 */
function take(feed: Feed, item: LineInput): boolean {
  if (!feed.pool) {
    if (feed.seen < feed.parallelFrom || feed.threads <= 0) {
      feed.seen++;
      checkLine(feed.chain, item);
      return false;
    }
    feed.pool = new LinePool(feed.threads, feed.chain.opts.caseId);
  }
  feed.seen++;
  feed.batch.push(item);
  return feed.batch.length >= BATCH_LINES;
}

/** Hands the gathered batch to the pool, then checks analysed batches while too many wait. */
async function flush(feed: Feed): Promise<void> {
  const { pool } = feed;
  if (!pool || feed.batch.length === 0) return;
  const items = feed.batch;
  feed.batch = [];
  const texts = items.map((item) => (typeof item === "string" ? item : (item.line ?? "")));
  pool.add(feed.seen - items.length + 1, items, texts);
  // A bounded window: a few batches per worker, and some for this thread to take on.
  while (pool.size > feed.threads * 2 + 4) await checkBatch(feed);
}

/** Runs the in-order checks on the oldest batch, on its facts where they show a line sound. */
async function checkBatch(feed: Feed): Promise<void> {
  const done = await (feed.pool as LinePool<LineInput>).next();
  const facts = done.facts as LineFacts;
  const stamps = facts.ts.split("\n");
  for (let i = 0; i < done.items.length; i++) {
    const item = done.items[i] as LineInput;
    if (!checkAnalysedLine(feed.chain, item, facts, i, stamps)) checkLine(feed.chain, item);
  }
}
