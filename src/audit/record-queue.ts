import type { Precondition, RedisWrite } from "../store/cases.ts";
import type { AuditEntry, AuditEntryInput } from "./entry.ts";

/**
 * The `record` calls of one case that wait for their place in the log. They
 * are appended in the order they were made, in batches: concurrent calls share
 * one script call, which is how the log keeps up with bursts.
 */

export interface RecordOptions {
  /**
   * State changes applied in the same atomic step as the entry. A function gets
   * the entry as it will be stored, for writes that must name its seq.
   */
  writes?: readonly RedisWrite[] | ((entry: AuditEntry) => readonly RedisWrite[]);
  /** Checked atomically first; if one fails, nothing is written and `RecordRefusedError` is thrown. */
  preconditions?: readonly Precondition[];
}

/** What `record` is given most of the time: shared rather than allocated per entry. */
export const NO_OPTIONS: RecordOptions = Object.freeze({});

/** One `record` call, until its entry is appended or refused. */
export interface Pending {
  input: AuditEntryInput;
  opts: RecordOptions;
  resolve(entry: AuditEntry): void;
  reject(err: Error): void;
  /** The intent this outcome closes was already closed (as unknown, after a presumed crash). */
  late?: boolean;
  /** Passed `checkInput` (which does not depend on where the entry lands). */
  checked?: boolean;
  /** Times a batch starting with, or holding, this entry was refused by the script for its own sake. */
  attempts: number;
}

/** Queues a call; the promise settles when its entry is appended or refused. */
export function enqueue(
  queue: Pending[],
  input: AuditEntryInput,
  opts: RecordOptions,
): Promise<AuditEntry> {
  return new Promise<AuditEntry>((resolve, reject) => {
    // Every field set from the start: one object shape, however the entry fares later.
    queue.push({ input, opts, resolve, reject, late: false, checked: false, attempts: 0 });
  });
}

/**
 * Takes the next batch, at most `maxBatch` calls, off the front of the queue.
 * An entry with preconditions only goes first: the script checks the
 * preconditions before any write, so they can only be the first entry's.
 */
export function takeBatch(queue: Pending[], maxBatch: number): Pending[] {
  let size = 1;
  while (size < queue.length && size < maxBatch && !queue[size]?.opts.preconditions?.length) size++;
  return queue.splice(0, size);
}

export function rejectAll(batch: readonly Pending[], err: Error): void {
  for (const p of batch) p.reject(err);
}
