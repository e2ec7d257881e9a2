/**
 * The log of every Bot API call the simulator answered, in answer order.
 * Tests and the rehearsal report read it through `GET /sim/calls?since=N` to
 * see exactly what a bot asked for and what Telegram said back.
 */

export interface CallRecord {
  seq: number;
  bot_id?: number;
  method: string;
  params: Record<string, unknown>;
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: object;
  /** Simulated Unix time of the call. */
  time: number;
  /** Wall-clock milliseconds when the request arrived and was answered. */
  received_at: number;
  answered_at: number;
}

export interface CallLog {
  append(record: Omit<CallRecord, "seq">): CallRecord;
  since(seq: number, limit?: number): CallRecord[];
  last(): number;
  clear(): void;
}

/** Keeps at most `capacity` records; the oldest are dropped first. */
export function createCallLog(capacity = 100000): CallLog {
  let records: CallRecord[] = [];
  let seq = 0;
  return {
    append(record) {
      seq += 1;
      const full = { seq, ...record };
      records.push(full);
      if (records.length > capacity) records = records.slice(records.length - capacity / 2);
      return full;
    },
    since(after, limit = 10000) {
      const start = records.findIndex((r) => r.seq > after);
      return start === -1 ? [] : records.slice(start, start + limit);
    },
    last: () => seq,
    clear() {
      records = [];
    },
  };
}
