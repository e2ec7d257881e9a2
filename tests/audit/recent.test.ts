/**
 * Reading a case's log back for people: the newest entries for /status, the
 * entries after a seq for a rehearsal's transcript. Both leave erased entries
 * out and read a log longer than one HMGET slice (1,000 seqs) whole.
 */
import { describe, expect, it } from "vitest";
import { eraseEntryPayloads } from "../../src/audit/erase.ts";
import { entriesSince, recentEntries } from "../../src/audit/recent.ts";
import { freshLog, info } from "./helpers.ts";

const CASE = "op-recent";
const COUNT = 1203;

async function logOf(count: number) {
  const t = await freshLog();
  for (let from = 0; from < count; from += 100) {
    const batch = Array.from({ length: Math.min(100, count - from) }, (_, i) =>
      t.log.record(info(CASE, "warn", { i: from + i })),
    );
    await Promise.all(batch);
  }
  return t;
}

const seqsOf = (entries: Array<{ seq: number }>) => entries.map((e) => e.seq);

describe("reading a case's log back", () => {
  it("gives the entries after a seq, oldest first, across slices, without erased ones", async () => {
    const { redis, log } = await logOf(COUNT);
    const erasure = await eraseEntryPayloads(log, CASE, [999, 1001], "retention ended", {
      kind: "cli",
      name: "retention@server",
    });
    const head = erasure.entry?.seq as number;
    expect(head).toBe(COUNT + 1);

    const after = await entriesSince(redis, CASE, 995);
    const expected = Array.from({ length: head - 995 }, (_, i) => 996 + i).filter(
      (s) => s !== 999 && s !== 1001,
    );
    expect(seqsOf(after)).toEqual(expected);
    expect(after.at(-1)?.op).toBe("erase");
    expect(seqsOf(await entriesSince(redis, CASE, 0))).toHaveLength(head - 2);
    expect(await entriesSince(redis, CASE, head)).toEqual([]);
  });

  it("gives the newest entries newest first, counting erased seqs among them", async () => {
    const { redis, log } = await logOf(10);
    await eraseEntryPayloads(log, CASE, [9], "retention ended", {
      kind: "cli",
      name: "retention@server",
    });
    expect(seqsOf(await recentEntries(redis, CASE, 4))).toEqual([11, 10, 8]);
    expect(seqsOf(await recentEntries(redis, CASE, 100))).toEqual([11, 10, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(await recentEntries(redis, "op-empty", 5)).toEqual([]);
  });
});
